//! `--help` lists every setting with its default and the range start-up checks.

use b2b_platform::cli::*;
use b2b_platform::config;
use b2b_platform::config::names::*;

#[test]
fn help_says_what_start_up_checks() {
    let range = 60..=30 * 86_400;
    let text = settings_help(&[
        Setting::duration(JWT_EXPIRES_IN, "token lifetime", 3600, &range),
        Setting::port(PORT, "listens on", 3001),
    ]);
    let refusal = config::duration_value_in(JWT_EXPIRES_IN, "0", &range).unwrap_err();
    assert!(
        refusal
            .to_string()
            .contains(&config::duration_range_text(&range))
    );
    assert!(text.contains("JWT_EXPIRES_IN=1h\n"), "{text}");
    assert!(text.contains(": from 1m to 30d"), "{text}");
    assert!(
        text.contains("PORT=3001\n      listens on: from 1 to 65535"),
        "{text}"
    );
}

#[test]
fn required_secrets_say_so_and_dev_ones_show_their_value() {
    let text = settings_help(&Setting::secrets(false));
    assert!(text.contains("JWT_SECRET (required)\n"), "{text}");
    assert!(text.contains(": at least 32 bytes"), "{text}");
    let dev = settings_help(&Setting::secrets(true));
    assert!(dev.contains(config::DEV_SERVICE_TOKEN), "{dev}");
}
