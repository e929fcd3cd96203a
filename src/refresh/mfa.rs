//! MFA codes: from the user (`credd mfa`, `credd refresh --code`) or from `mfa_command`, a command
//! that prints one (`ykman oath accounts code -s aws`, `op item get … --otp`).
//!
//! A code is used once. STS rejects a code it has already seen within its window, and a retry loop
//! that re-sent one would burn attempts against the device's lockout, so the last code used per
//! MFA device is remembered and a repeat is treated as "no code yet".

use std::collections::HashMap;
use std::time::Duration;

use tokio::process::Command;

use crate::secret::Secret;

/// How long `mfa_command` may take. Hardware keys wait for a touch, so this is generous.
pub const MFA_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// STS takes six digits.
pub fn is_code(s: &str) -> bool {
    s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Runs `command` with `sh -c` and returns the code it printed (the last 6-digit token).
pub async fn run_command(command: &str) -> Result<Secret, String> {
    let child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = match tokio::time::timeout(MFA_COMMAND_TIMEOUT, child).await {
        Err(_) => {
            return Err(format!("mfa_command did not finish within {}s", MFA_COMMAND_TIMEOUT.as_secs()));
        }
        Ok(Err(e)) => return Err(format!("could not run mfa_command: {e}")),
        Ok(Ok(out)) => out,
    };
    if !out.status.success() {
        // stderr may name the device or the account, never the code: safe to show, trimmed.
        let err = String::from_utf8_lossy(&out.stderr);
        let err: String = err.trim().chars().take(200).collect();
        return Err(format!("mfa_command failed ({}): {err}", out.status));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .split(|c: char| !c.is_ascii_digit())
        .rev()
        .find(|t| is_code(t))
        .map(Secret::new)
        .ok_or_else(|| "mfa_command printed no 6-digit code".to_string())
}

/// Remembers the last code used per MFA device so none is sent twice.
#[derive(Default, Debug)]
pub struct UsedCodes(HashMap<String, Secret>);

impl UsedCodes {
    /// True if `code` is new for `serial` (and records it).
    pub fn take(&mut self, serial: &str, code: &Secret) -> bool {
        if self.0.get(serial) == Some(code) {
            return false;
        }
        self.0.insert(serial.to_string(), code.clone());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn command_output_is_parsed() {
        assert_eq!(run_command("echo 123456").await.unwrap().expose(), "123456");
        assert_eq!(run_command("echo 'aws: 654321'").await.unwrap().expose(), "654321");
        assert!(run_command("echo nope").await.unwrap_err().contains("no 6-digit"));
        assert!(run_command("echo oops >&2; exit 3").await.unwrap_err().contains("oops"));
    }

    #[test]
    fn codes_are_used_once() {
        let mut used = UsedCodes::default();
        assert!(used.take("dev", &Secret::new("123456")));
        assert!(!used.take("dev", &Secret::new("123456")));
        assert!(used.take("dev", &Secret::new("654321")));
        assert!(used.take("other", &Secret::new("654321")));
    }
}
