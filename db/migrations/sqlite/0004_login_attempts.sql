-- Log-in attempts per budget and one-minute window (see the MySQL migration).
CREATE TABLE IF NOT EXISTS login_attempts (
    bucket TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    PRIMARY KEY (bucket, window_start)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS ix_login_attempts_window ON login_attempts (window_start);
