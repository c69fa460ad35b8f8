// Not shipped: /docs loads swagger-ui-bundle.js.
