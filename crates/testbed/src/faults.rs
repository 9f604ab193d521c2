//! Scripted faults: the next N calls of an API at a bank misbehave on purpose — the bank
//! refuses, times out before or after applying the transfer, the connection drops, the transfer
//! lands only after the client gave up on it, or the usage plan runs out. Tests and benchmarks
//! use them to prove that clients never lose or double money.

use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a call misbehaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Fault {
    /// The bank refuses with `bank_rsp_code` (`A0002`, or `A0009` for a deposit item).
    BankError {
        /// The bank's code, e.g. `499`.
        bank_rsp_code: String,
    },
    /// The center answers a timeout: `A0007` (the center's) or `A0017` (the bank's). With
    /// `applied`, the transfer was made all the same; `transfer/result` tells which.
    Timeout {
        /// Whether the transfer went through before the timeout.
        applied: bool,
        /// `A0007` or `A0017`.
        #[serde(default = "default_timeout_code")]
        rsp_code: String,
    },
    /// The connection drops before the answer: after the transfer was committed, or before
    /// anything happened.
    Drop {
        /// Whether the transfer was committed first.
        after_commit: bool,
    },
    /// `O0009`: the institution's usage plan is exhausted.
    UsageLimit,
    /// The center (or the bank) keeps working on a withdraw or deposit after the client gave
    /// up: the call is answered at once with an unknown outcome (`answer`), nothing is recorded
    /// yet, and `after_ms` later the transfer lands in the background exactly as the call would
    /// have made it — same `bank_tran_id`, filed under the business date of the call's arrival,
    /// through the ledger's usual checks. Until then `transfer/result` does not know it.
    Late {
        /// How long after the answer the transfer lands, in milliseconds.
        after_ms: u64,
        /// What the client is told at once.
        #[serde(default)]
        answer: LateAnswer,
    },
}

/// What the caller of a transfer hit by [`Fault::Late`] hears at once: never a verdict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LateAnswer {
    /// `A0007`, the center's timeout.
    #[default]
    Timeout,
    /// `A0017`, the bank's timeout.
    BankTimeout,
    /// The connection drops without an answer.
    Drop,
}

/// The longest a late transfer may wait to land: ten minutes, so pending work stays bounded.
pub const MAX_LATE: Duration = Duration::from_secs(600);

fn default_timeout_code() -> String {
    "A0007".into()
}

/// A fault scripted for the next `remaining` calls matching `api` and `bank_code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    /// The API, by its short name (`withdraw`, `deposit`, `balance`, `transaction_list`,
    /// `real_name`, `receive`, `remit_list`), or `*` for any.
    pub api: String,
    /// The bank the call goes to; `None` for any bank.
    #[serde(default)]
    pub bank_code: Option<String>,
    /// Calls still to be hit.
    #[serde(default = "one")]
    pub remaining: u32,
    /// What happens to them.
    pub fault: Fault,
}

fn one() -> u32 {
    1
}

/// The APIs a rule may name.
pub const APIS: &[&str] = &[
    "*",
    "withdraw",
    "deposit",
    "balance",
    "transaction_list",
    "real_name",
    "receive",
    "remit_list",
];

impl FaultRule {
    /// Checks the rule's fields; a message for a person when they are wrong.
    pub fn validate(&self) -> Result<(), String> {
        if !APIS.contains(&self.api.as_str()) {
            return Err(format!(
                "unknown api {:?}; one of {}",
                self.api,
                APIS.join(", ")
            ));
        }
        if let Some(code) = &self.bank_code
            && (code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("bank_code {code:?} is not 3 digits"));
        }
        if self.remaining == 0 {
            return Err("remaining must be at least 1".into());
        }
        match &self.fault {
            Fault::BankError { bank_rsp_code }
                if bank_rsp_code.len() != 3
                    || !bank_rsp_code.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Err(format!("bank_rsp_code {bank_rsp_code:?} is not 3 digits"))
            }
            Fault::Timeout { rsp_code, .. } if rsp_code != "A0007" && rsp_code != "A0017" => Err(
                format!("timeout rsp_code {rsp_code:?} must be A0007 or A0017"),
            ),
            // Only a transfer has something to land later; an inquiry has nothing to apply.
            Fault::Late { .. } if self.api != "withdraw" && self.api != "deposit" => {
                Err("a late fault needs api withdraw or deposit".into())
            }
            Fault::Late { after_ms, .. } if *after_ms > MAX_LATE.as_millis() as u64 => Err(
                format!("after_ms {after_ms} is beyond {}", MAX_LATE.as_millis()),
            ),
            _ => Ok(()),
        }
    }

    fn matches(&self, api: &str, bank_code: &str) -> bool {
        (self.api == "*" || self.api == api)
            && self.bank_code.as_deref().is_none_or(|b| b == bank_code)
    }

    /// Parses the command line's form `API[@BANK]=KIND[*COUNT]`, where KIND is
    /// `bank-error:CODE`, `timeout-applied`, `timeout-not-applied`, `bank-timeout-applied`,
    /// `bank-timeout-not-applied`, `drop-after-commit`, `drop-before-commit`, `usage-limit`, or
    /// a transfer that lands `MS` milliseconds after an unknown answer: `late:MS` (answered
    /// `A0007`), `late-bank-timeout:MS` (`A0017`) or `late-drop:MS` (the connection drops).
    /// Example: `withdraw@004=timeout-applied*3`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let (target, what) = spec
            .split_once('=')
            .ok_or_else(|| format!("{spec:?}: expected API[@BANK]=KIND[*COUNT]"))?;
        let (api, bank_code) = match target.split_once('@') {
            Some((api, bank)) => (api, Some(bank.to_owned())),
            None => (target, None),
        };
        let (kind, remaining) = match what.split_once('*') {
            Some((kind, count)) => (
                kind,
                count
                    .parse()
                    .map_err(|_| format!("{count:?} is not a count"))?,
            ),
            None => (what, 1),
        };
        let timeout = |applied: bool, code: &str| Fault::Timeout {
            applied,
            rsp_code: code.into(),
        };
        let fault = match kind {
            "timeout-applied" => timeout(true, "A0007"),
            "timeout-not-applied" => timeout(false, "A0007"),
            "bank-timeout-applied" => timeout(true, "A0017"),
            "bank-timeout-not-applied" => timeout(false, "A0017"),
            "drop-after-commit" => Fault::Drop { after_commit: true },
            "drop-before-commit" => Fault::Drop {
                after_commit: false,
            },
            "usage-limit" => Fault::UsageLimit,
            other => {
                let late = |answer: LateAnswer, ms: &str| -> Result<Fault, String> {
                    let after_ms = ms
                        .parse()
                        .map_err(|_| format!("{ms:?} is not milliseconds"))?;
                    Ok(Fault::Late { after_ms, answer })
                };
                if let Some(code) = other.strip_prefix("bank-error:") {
                    Fault::BankError {
                        bank_rsp_code: code.into(),
                    }
                } else if let Some(ms) = other.strip_prefix("late:") {
                    late(LateAnswer::Timeout, ms)?
                } else if let Some(ms) = other.strip_prefix("late-bank-timeout:") {
                    late(LateAnswer::BankTimeout, ms)?
                } else if let Some(ms) = other.strip_prefix("late-drop:") {
                    late(LateAnswer::Drop, ms)?
                } else {
                    return Err(format!("unknown fault kind {other:?}"));
                }
            }
        };
        let rule = Self {
            api: api.into(),
            bank_code,
            remaining,
            fault,
        };
        rule.validate()?;
        Ok(rule)
    }
}

/// The scripted faults of one testbed.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Mutex<Vec<FaultRule>>,
}

impl Faults {
    /// Adds a rule after those already waiting.
    pub fn add(&self, rule: FaultRule) {
        self.rules
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(rule);
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The rules still waiting.
    pub fn list(&self) -> Vec<FaultRule> {
        self.rules.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The fault for this call, if a rule matches; the rule loses one of its calls.
    pub fn take(&self, api: &str, bank_code: &str) -> Option<Fault> {
        let mut rules = self.rules.lock().unwrap_or_else(|e| e.into_inner());
        let index = rules.iter().position(|r| r.matches(api, bank_code))?;
        let fault = rules[index].fault.clone();
        rules[index].remaining -= 1;
        if rules[index].remaining == 0 {
            rules.remove(index);
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_hits_its_count_of_matching_calls_then_stops() {
        let faults = Faults::default();
        faults.add(FaultRule::parse("withdraw@004=bank-error:453*2").unwrap());
        assert_eq!(faults.take("withdraw", "088"), None);
        assert_eq!(faults.take("deposit", "004"), None);
        let hit = Some(Fault::BankError {
            bank_rsp_code: "453".into(),
        });
        assert_eq!(faults.take("withdraw", "004"), hit);
        assert_eq!(faults.take("withdraw", "004"), hit);
        assert_eq!(faults.take("withdraw", "004"), None);
        assert!(faults.list().is_empty());
    }

    #[test]
    fn command_line_specs_parse_into_rules() {
        let rule = FaultRule::parse("deposit=drop-after-commit*3").unwrap();
        assert_eq!(rule.api, "deposit");
        assert_eq!(rule.bank_code, None);
        assert_eq!(rule.remaining, 3);
        assert_eq!(rule.fault, Fault::Drop { after_commit: true });
        let rule = FaultRule::parse("*@090=bank-timeout-not-applied").unwrap();
        assert_eq!(
            rule.fault,
            Fault::Timeout {
                applied: false,
                rsp_code: "A0017".into()
            }
        );
        assert!(FaultRule::parse("withdraw").is_err());
        assert!(FaultRule::parse("teleport=usage-limit").is_err());
        assert!(FaultRule::parse("withdraw@04=usage-limit").is_err());
        assert!(FaultRule::parse("withdraw=bank-error:45x").is_err());
        assert!(FaultRule::parse("withdraw=usage-limit*0").is_err());
    }

    #[test]
    fn a_late_fault_reads_from_the_command_line_and_json_and_is_for_transfers_only() {
        let rule = FaultRule::parse("deposit@088=late-drop:250*2").unwrap();
        assert_eq!(
            (rule.api.as_str(), rule.remaining, rule.fault),
            (
                "deposit",
                2,
                Fault::Late {
                    after_ms: 250,
                    answer: LateAnswer::Drop
                }
            )
        );
        assert_eq!(
            FaultRule::parse("withdraw=late-bank-timeout:10")
                .unwrap()
                .fault,
            Fault::Late {
                after_ms: 10,
                answer: LateAnswer::BankTimeout
            }
        );
        let rule: FaultRule =
            serde_json::from_str(r#"{"api":"withdraw","fault":{"kind":"late","after_ms":500}}"#)
                .unwrap();
        assert_eq!(
            rule.fault,
            Fault::Late {
                after_ms: 500,
                answer: LateAnswer::Timeout
            }
        );
        assert_eq!(
            serde_json::to_value(&rule.fault).unwrap(),
            serde_json::json!({"kind": "late", "after_ms": 500, "answer": "timeout"})
        );
        assert!(FaultRule::parse("withdraw=late:soon").is_err());
        assert!(
            FaultRule::parse("balance=late:100").is_err(),
            "not a transfer"
        );
        assert!(
            FaultRule::parse("*=late:100").is_err(),
            "not only transfers"
        );
        assert!(
            FaultRule::parse("withdraw=late:600001").is_err(),
            "too late"
        );
        assert!(FaultRule::parse("withdraw=late:600000").is_ok());
    }

    #[test]
    fn the_admin_json_form_reads_with_defaults() {
        let rule: FaultRule =
            serde_json::from_str(r#"{"api":"withdraw","fault":{"kind":"timeout","applied":true}}"#)
                .unwrap();
        assert_eq!(rule.remaining, 1);
        assert_eq!(
            rule.fault,
            Fault::Timeout {
                applied: true,
                rsp_code: "A0007".into()
            }
        );
    }
}
