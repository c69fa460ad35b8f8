"""Schemathesis hooks for scripts/schemathesis-check.sh.

They only change *positive* test cases (those schemathesis sends as schema-valid and expects to be
accepted), to honour two rules of the contract that JSON Schema cannot state. Every check still
runs on every response; negative cases are left as generated.

- An order names each product at most once (400 otherwise; SPEC §5). JSON Schema can say that
  array items are distinct objects, not that one property is distinct across items, so the lines
  of a positive order are cut to the first line of each product.
- An idempotency key used again with a different request gets 422 (SPEC §6, §7): that depends on
  what was sent before, not on the request. Generated keys are short and collide all the time, so
  each positive request gets a key of its own: the generated key with a unique suffix.
- An `If-Match` on `PATCH /products/{id}` matches only the product's current `ETag` (412
  otherwise; SPEC §11): that too depends on what was written before, so a positive request's
  `If-Match` becomes `*`, which any existing product matches.
"""

import itertools
import os

import schemathesis

_counter = itertools.count()
_run = os.getpid()

_KEY_HEADERS = ("idempotency-key", "x-idempotency-key")


def _unique(key):
    suffix = f".{_run}.{next(_counter)}"
    return str(key)[: 255 - len(suffix)] + suffix


def _is_positive(case):
    return case.meta is not None and case.meta.generation.mode.is_positive


@schemathesis.hook
def before_call(context, case, kwargs):
    if not _is_positive(case):
        return
    for name, value in list((case.headers or {}).items()):
        if name.lower() in _KEY_HEADERS:
            case.headers[name] = _unique(value)
        elif name.lower() == "if-match":
            case.headers[name] = "*"
    body = case.body
    if isinstance(body, dict):
        if isinstance(body.get("idempotency_key"), str):
            body["idempotency_key"] = _unique(body["idempotency_key"])
        items = body.get("items")
        if isinstance(items, list):
            seen = set()
            lines = []
            for line in items:
                product = line.get("product_id") if isinstance(line, dict) else None
                if product in seen:
                    continue
                seen.add(product)
                lines.append(line)
            body["items"] = lines
