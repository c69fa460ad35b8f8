
-- Log-in attempts per budget and one-minute window, shared by every customers-api replica.
-- `bucket` is a SHA-256 of what the budget counts, so no e-mail or address is kept in clear;
-- ended windows are purged by the services.
CREATE TABLE IF NOT EXISTS login_attempts (
    bucket CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    window_start BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    PRIMARY KEY (bucket, window_start),
    KEY ix_login_attempts_window (window_start)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
