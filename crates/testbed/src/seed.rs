//! The demo seed: the participating banks, two institutions, and four people with a year of
//! believable history each. The same date gives the same data, so tests and screenshots are stable.

use base64::Engine as _;
use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use rand::RngCore;
use rusqlite::{Connection, params};
use sha2::{Digest, Sha512};

use crate::db::DbError;

/// The participating banks of docs/protocol.md §7, by `bank_code_std`.
pub const BANKS: &[(&str, &str)] = &[
    ("002", "KDB산업은행"),
    ("003", "IBK기업은행"),
    ("004", "KB국민은행"),
    ("007", "수협은행"),
    ("011", "NH농협은행"),
    ("020", "우리은행"),
    ("023", "SC제일은행"),
    ("027", "한국씨티은행"),
    ("031", "iM뱅크"),
    ("032", "부산은행"),
    ("034", "광주은행"),
    ("035", "제주은행"),
    ("037", "전북은행"),
    ("039", "경남은행"),
    ("045", "새마을금고"),
    ("048", "신협"),
    ("050", "상호저축은행"),
    ("071", "우체국"),
    ("081", "하나은행"),
    ("088", "신한은행"),
    ("089", "케이뱅크"),
    ("090", "카카오뱅크"),
    ("092", "토스뱅크"),
    ("097", "오픈은행"),
];

/// The name of a participating bank.
pub fn bank_name(code: &str) -> Option<&'static str> {
    BANKS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, name)| *name)
}

/// What an account is for, which decides the shape of its history.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Salary comes in; bills, rent and cards go out.
    Main,
    /// Pocket money from the main account; card and pay purchases.
    Spending,
    /// An installment savings account: a fixed deposit each month, interest each quarter.
    Savings,
}

struct AccountSpec {
    bank: &'static str,
    role: Role,
    product: &'static str,
}

struct PersonSpec {
    name: &'static str,
    birth_date: &'static str,
    cell_no: &'static str,
    /// Employer and monthly pay; `None` for a student living on pocket money and part-time pay.
    employer: Option<(&'static str, i64)>,
    accounts: &'static [AccountSpec],
}

const PEOPLE: &[PersonSpec] = &[
    PersonSpec {
        name: "홍길동",
        birth_date: "19880101",
        cell_no: "01012345678",
        employer: Some(("(주)한빛소프트", 4_150_000)),
        accounts: &[
            AccountSpec {
                bank: "004",
                role: Role::Main,
                product: "KB Star*t 통장",
            },
            AccountSpec {
                bank: "088",
                role: Role::Spending,
                product: "쏠편한 입출금통장",
            },
            AccountSpec {
                bank: "090",
                role: Role::Spending,
                product: "카카오뱅크 입출금통장",
            },
            AccountSpec {
                bank: "081",
                role: Role::Savings,
                product: "하나 적금",
            },
        ],
    },
    PersonSpec {
        name: "김민지",
        birth_date: "19950315",
        cell_no: "01023456789",
        employer: Some(("한국전자(주)", 3_380_000)),
        accounts: &[
            AccountSpec {
                bank: "020",
                role: Role::Main,
                product: "WON 통장",
            },
            AccountSpec {
                bank: "092",
                role: Role::Spending,
                product: "토스뱅크 통장",
            },
            AccountSpec {
                bank: "011",
                role: Role::Savings,
                product: "NH 청년 적금",
            },
        ],
    },
    PersonSpec {
        name: "이서준",
        birth_date: "19790722",
        cell_no: "01034567890",
        employer: Some(("서준건축사사무소", 5_900_000)),
        accounts: &[
            AccountSpec {
                bank: "003",
                role: Role::Main,
                product: "IBK 급여통장",
            },
            AccountSpec {
                bank: "004",
                role: Role::Spending,
                product: "KB 생활비통장",
            },
            AccountSpec {
                bank: "071",
                role: Role::Savings,
                product: "우체국 정기적금",
            },
            AccountSpec {
                bank: "089",
                role: Role::Spending,
                product: "케이뱅크 생활통장",
            },
            AccountSpec {
                bank: "032",
                role: Role::Spending,
                product: "BNK 모바일통장",
            },
            AccountSpec {
                bank: "045",
                role: Role::Savings,
                product: "MG 자유적금",
            },
        ],
    },
    PersonSpec {
        name: "박지우",
        birth_date: "20010909",
        cell_no: "01045678901",
        employer: None,
        accounts: &[
            AccountSpec {
                bank: "090",
                role: Role::Main,
                product: "카카오뱅크 입출금통장",
            },
            AccountSpec {
                bank: "088",
                role: Role::Spending,
                product: "신한 청춘통장",
            },
        ],
    },
];

/// An institution of the seed, with the secrets generated for this database.
struct InstitutionSpec {
    name: &'static str,
    client_use_code: &'static str,
    redirect_uris: &'static [&'static str],
    collection: &'static str,
    payout: &'static str,
}

const INSTITUTIONS: &[InstitutionSpec] = &[
    InstitutionSpec {
        name: "모아",
        client_use_code: "M202600001",
        redirect_uris: &[
            "http://127.0.0.1/moa-consent/callback",
            "http://127.0.0.1/callback",
            "https://moa.example/callback",
        ],
        collection: "9700100000011",
        payout: "9700100000028",
    },
    InstitutionSpec {
        name: "다른핀테크",
        client_use_code: "T991599190",
        redirect_uris: &[
            "https://other.example/oauth/callback",
            "http://127.0.0.1/callback",
        ],
        collection: "9700200000015",
        payout: "9700200000022",
    },
];

/// The bank holding institutions' contract accounts: KFTC's own test bank.
const CONTRACT_BANK: &str = "097";
/// What each institution's payout account starts with: enough for any test.
const PAYOUT_FLOAT: i64 = 10_000_000_000;

/// SplitMix64: tiny, and the same sequence on every platform and version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1).max(1) as u64;
        lo + (self.next() % span) as i64
    }

    /// A won amount in `lo..=hi`, rounded to `unit` as real prices are.
    fn won(&mut self, lo: i64, hi: i64, unit: i64) -> i64 {
        (self.range(lo, hi) / unit).max(1) * unit
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize]
    }

    fn chance(&mut self, percent: i64) -> bool {
        self.range(1, 100) <= percent
    }
}

/// Seeds an empty database. Returns the admin token generated for it.
pub fn seed(conn: &Connection, today: NaiveDate) -> Result<(), DbError> {
    let mut secret = rand::thread_rng();
    let jwt_key = hex(&random_bytes(&mut secret, 32));
    let admin_token = hex(&random_bytes(&mut secret, 24));
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('jwt_key', ?1), ('admin_token', ?2), ('seeded_on', ?3)",
        params![jwt_key, admin_token, today.format("%Y%m%d").to_string()],
    )?;

    let mut insert_bank = conn.prepare("INSERT INTO banks (code, name) VALUES (?1, ?2)")?;
    for (code, name) in BANKS {
        insert_bank.execute(params![code, name])?;
    }

    for spec in INSTITUTIONS {
        let issue = "20230102";
        let collection = insert_account(
            conn,
            &NewAccount {
                bank: CONTRACT_BANK,
                number: spec.collection,
                holder: spec.name,
                person: None,
                account_type: "1",
                product: "모계좌(출금이체 수납)",
                issue_date: issue,
                maturity_date: None,
                balance: 0,
            },
        )?;
        let payout = insert_account(
            conn,
            &NewAccount {
                bank: CONTRACT_BANK,
                number: spec.payout,
                holder: spec.name,
                person: None,
                account_type: "1",
                product: "모계좌(입금이체 지급)",
                issue_date: issue,
                maturity_date: None,
                balance: PAYOUT_FLOAT,
            },
        )?;
        let uris = serde_json::to_string(spec.redirect_uris).unwrap_or_else(|_| "[]".into());
        conn.execute(
            "INSERT INTO institutions (name, client_id, client_secret, client_use_code,
                redirect_uris, scopes, collection_account, payout_account)
             VALUES (?1, ?2, ?3, ?4, ?5, 'login inquiry transfer oob', ?6, ?7)",
            params![
                spec.name,
                uuid::Uuid::new_v4().to_string(),
                uuid::Uuid::new_v4().to_string(),
                spec.client_use_code,
                uris,
                collection,
                payout
            ],
        )?;
    }

    let mut rng = Rng(0x4D4F_415F_5345_4544); // "MOA_SEED"
    for person in PEOPLE {
        conn.execute(
            "INSERT INTO people (user_name, birth_date, cell_no, user_ci) VALUES (?1, ?2, ?3, ?4)",
            params![
                person.name,
                person.birth_date,
                person.cell_no,
                user_ci(person)
            ],
        )?;
        let person_id = conn.last_insert_rowid();
        for spec in person.accounts {
            seed_account(conn, &mut rng, today, person, person_id, spec)?;
        }
    }
    Ok(())
}

/// The person's CI (연계정보): 88 characters of base64, the same at every institution.
fn user_ci(person: &PersonSpec) -> String {
    let digest = Sha512::digest(format!("{}:{}", person.birth_date, person.cell_no).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(digest)
}

struct NewAccount<'a> {
    bank: &'a str,
    number: &'a str,
    holder: &'a str,
    person: Option<i64>,
    account_type: &'a str,
    product: &'a str,
    issue_date: &'a str,
    maturity_date: Option<&'a str>,
    balance: i64,
}

fn insert_account(conn: &Connection, a: &NewAccount<'_>) -> Result<i64, DbError> {
    conn.execute(
        "INSERT INTO accounts (bank_code, account_num, holder_name, person_id, account_type,
            product_name, issue_date, maturity_date, balance)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            a.bank,
            a.number,
            a.holder,
            a.person,
            a.account_type,
            a.product,
            a.issue_date,
            a.maturity_date,
            a.balance
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// One line of history before the balances are chained.
struct Event {
    date: NaiveDate,
    time: NaiveTime,
    deposit: bool,
    tran_type: &'static str,
    content: String,
    amount: i64,
    branch: &'static str,
    counterpart: Option<String>,
}

const SHOPS: &[(&str, i64, i64)] = &[
    ("GS25 역삼점", 1_500, 12_000),
    ("CU 서초중앙점", 1_200, 9_800),
    ("스타벅스 강남R점", 4_500, 16_500),
    ("이마트 성수점", 18_000, 142_000),
    ("쿠팡(주)", 9_900, 89_000),
    ("배달의민족", 14_000, 42_000),
    ("올리브영 신촌점", 8_000, 56_000),
    ("다이소 홍대점", 2_000, 24_000),
    ("교보문고 광화문", 13_500, 48_000),
    ("CGV 용산아이파크몰", 14_000, 31_000),
    ("파리바게뜨", 3_200, 18_700),
    ("카카오T 택시", 4_800, 27_300),
    ("맥도날드 강남역점", 6_900, 15_400),
    ("무신사", 29_000, 139_000),
];
const PAY_APPS: &[&str] = &["카카오페이", "네이버페이", "토스페이"];
const FRIENDS: &[&str] = &["최유진", "정하늘", "강도윤", "윤서연", "임재현", "한소희"];
const CARD_COMPANIES: &[&str] = &["KB국민카드", "신한카드", "현대카드", "삼성카드"];

fn seed_account(
    conn: &Connection,
    rng: &mut Rng,
    today: NaiveDate,
    person: &PersonSpec,
    person_id: i64,
    spec: &AccountSpec,
) -> Result<(), DbError> {
    let start = today - Days::new(365);
    let number = account_number(rng, spec.bank);
    let (account_type, opening) = match spec.role {
        Role::Main => ("1", rng.won(1_200_000, 4_800_000, 1_000)),
        Role::Spending => ("1", rng.won(80_000, 700_000, 100)),
        Role::Savings => ("2", rng.won(1_000_000, 9_000_000, 10_000)),
    };
    let issue_date = (start - Days::new(rng.range(30, 2_400) as u64))
        .format("%Y%m%d")
        .to_string();
    let maturity = (spec.role == Role::Savings).then(|| {
        (today + Days::new(rng.range(60, 700) as u64))
            .format("%Y%m%d")
            .to_string()
    });

    let mut events = Vec::new();
    let mut day = start;
    while day < today {
        events.extend(day_events(rng, day, person, spec.role));
        day = day + Days::new(1);
    }
    events.sort_by_key(|e| (e.date, e.time));

    // Chain the balances; a purchase the account could not pay for never happened.
    let mut balance = opening;
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let after = if event.deposit {
            balance + event.amount
        } else {
            balance - event.amount
        };
        if after < 0 {
            continue;
        }
        balance = after;
        rows.push((event, after));
    }

    let account_id = insert_account(
        conn,
        &NewAccount {
            bank: spec.bank,
            number: &number,
            holder: person.name,
            person: Some(person_id),
            account_type,
            product: spec.product,
            issue_date: &issue_date,
            maturity_date: maturity.as_deref(),
            balance,
        },
    )?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO transactions (account_id, tran_date, tran_time, inout_type, tran_type,
            print_content, tran_amt, after_balance, branch_name, counterpart_name)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for (event, after) in rows {
        insert.execute(params![
            account_id,
            event.date.format("%Y%m%d").to_string(),
            event.time.format("%H%M%S").to_string(),
            if event.deposit { "입금" } else { "출금" },
            event.tran_type,
            event.content,
            event.amount,
            after,
            event.branch,
            event.counterpart,
        ])?;
    }
    Ok(())
}

/// A plausible account number for the bank: its own length, all digits.
fn account_number(rng: &mut Rng, bank: &str) -> String {
    let (prefix, len) = match bank {
        "004" => ("4", 14),
        "088" => ("110", 12),
        "090" => ("3333", 13),
        "081" => ("620", 14),
        "020" => ("1002", 13),
        "092" => ("1000", 12),
        "011" => ("302", 13),
        "003" => ("010", 14),
        "071" => ("01400", 14),
        "089" => ("1001", 12),
        "032" => ("101", 12),
        "045" => ("9002", 13),
        _ => ("1", 12),
    };
    let mut number = prefix.to_owned();
    while number.len() < len {
        number.push(char::from(b'0' + (rng.next() % 10) as u8));
    }
    number
}

fn at(rng: &mut Rng, day: NaiveDate, from_hour: u32, to_hour: u32) -> (NaiveDate, NaiveTime) {
    let hour = rng.range(i64::from(from_hour), i64::from(to_hour)) as u32;
    let minute = rng.range(0, 59) as u32;
    let second = rng.range(0, 59) as u32;
    let time = NaiveTime::from_hms_opt(hour, minute, second).unwrap_or(NaiveTime::MIN);
    (day, time)
}

/// A transfer to or from `who`, who is also its counterpart.
fn transfer(at: (NaiveDate, NaiveTime), deposit: bool, who: &str, amount: i64) -> Event {
    let mut e = event(at, deposit, "이체", who, amount, "");
    e.counterpart = Some(who.to_owned());
    e
}

fn event(
    (date, time): (NaiveDate, NaiveTime),
    deposit: bool,
    tran_type: &'static str,
    content: impl Into<String>,
    amount: i64,
    branch: &'static str,
) -> Event {
    Event {
        date,
        time,
        deposit,
        tran_type,
        content: content.into(),
        amount,
        branch,
        counterpart: None,
    }
}

fn day_events(rng: &mut Rng, day: NaiveDate, person: &PersonSpec, role: Role) -> Vec<Event> {
    let mut out = Vec::new();
    let dom = day.day();
    let month = day.month();
    match role {
        Role::Main => {
            match person.employer {
                Some((employer, pay)) if dom == 25 => {
                    let bonus = if month == 1 || month == 7 { pay / 2 } else { 0 };
                    let mut e = event(at(rng, day, 8, 9), true, "급여", employer, pay + bonus, "");
                    e.counterpart = Some(employer.to_owned());
                    out.push(e);
                }
                None if dom == 10 => {
                    let mut e = event(
                        at(rng, day, 9, 11),
                        true,
                        "급여",
                        "(주)카페온더코너",
                        rng.won(680_000, 1_050_000, 10),
                        "",
                    );
                    e.counterpart = Some("(주)카페온더코너".to_owned());
                    out.push(e);
                }
                None if dom == 1 => {
                    let mut e = event(at(rng, day, 10, 20), true, "이체", "용돈 엄마", 500_000, "");
                    e.counterpart = Some("박미경".to_owned());
                    out.push(e);
                }
                _ => {}
            }
            if dom == 14 {
                let card = rng.pick(CARD_COMPANIES);
                let amount = rng.won(650_000, 2_100_000, 10);
                out.push(event(
                    at(rng, day, 0, 1),
                    false,
                    "카드",
                    format!("{card} 결제대금"),
                    amount,
                    "",
                ));
            }
            if dom == 20 {
                let winter = matches!(month, 12 | 1 | 2);
                let summer = matches!(month, 7 | 8);
                let power = if summer {
                    rng.won(68_000, 132_000, 10)
                } else {
                    rng.won(31_000, 58_000, 10)
                };
                out.push(event(
                    at(rng, day, 6, 7),
                    false,
                    "공과금",
                    "한국전력공사",
                    power,
                    "",
                ));
                let gas = if winter {
                    rng.won(96_000, 184_000, 10)
                } else {
                    rng.won(14_000, 38_000, 10)
                };
                out.push(event(
                    at(rng, day, 6, 7),
                    false,
                    "공과금",
                    "서울도시가스",
                    gas,
                    "",
                ));
            }
            if dom == 10 && person.employer.is_some() {
                out.push(event(
                    at(rng, day, 6, 7),
                    false,
                    "자동이체",
                    "주택담보대출 원리금",
                    850_000,
                    "",
                ));
            }
            if dom == 21 {
                out.push(event(
                    at(rng, day, 6, 7),
                    false,
                    "자동이체",
                    "SKT 통신요금",
                    rng.won(55_000, 89_000, 10),
                    "",
                ));
            }
            if dom == 27 && person.employer.is_some() {
                out.push(event(
                    at(rng, day, 9, 10),
                    false,
                    "자동이체",
                    "아파트관리비",
                    rng.won(148_000, 276_000, 10),
                    "",
                ));
            }
            if dom == 5 && person.employer.is_some() {
                out.push(event(
                    at(rng, day, 7, 8),
                    false,
                    "자동이체",
                    "삼성생명 보험료",
                    87_400,
                    "",
                ));
            }
            if dom == 26 && person.employer.is_some() {
                out.push(event(
                    at(rng, day, 8, 9),
                    false,
                    "이체",
                    format!("{} 적금", person.name),
                    300_000,
                    "",
                ));
            }
            if (dom == 2 || dom == 16) && rng.chance(90) {
                out.push(transfer(
                    at(rng, day, 12, 22),
                    false,
                    person.name,
                    rng.won(200_000, 600_000, 10_000),
                ));
            }
            if rng.chance(8) {
                out.push(event(
                    at(rng, day, 9, 22),
                    false,
                    "현금",
                    "ATM 출금",
                    rng.won(50_000, 300_000, 10_000),
                    "역삼역지점",
                ));
            }
            if rng.chance(4) {
                let friend = rng.pick(FRIENDS);
                out.push(transfer(
                    at(rng, day, 11, 23),
                    true,
                    friend,
                    rng.won(10_000, 150_000, 1_000),
                ));
            }
            if rng.chance(25) {
                let (shop, lo, hi) = rng.pick(SHOPS);
                out.push(event(
                    at(rng, day, 8, 22),
                    false,
                    "체크카드",
                    shop,
                    rng.won(lo, hi, 100),
                    "",
                ));
            }
        }
        Role::Spending => {
            if (dom == 2 || dom == 16) && rng.chance(85) {
                out.push(transfer(
                    at(rng, day, 12, 22),
                    true,
                    person.name,
                    rng.won(200_000, 600_000, 10_000),
                ));
            }
            for _ in 0..2 {
                if rng.chance(30) {
                    let (shop, lo, hi) = rng.pick(SHOPS);
                    out.push(event(
                        at(rng, day, 7, 23),
                        false,
                        "체크카드",
                        shop,
                        rng.won(lo, hi, 100),
                        "",
                    ));
                }
            }
            if rng.chance(12) {
                let app = rng.pick(PAY_APPS);
                out.push(event(
                    at(rng, day, 9, 23),
                    false,
                    "간편결제",
                    app,
                    rng.won(5_000, 70_000, 100),
                    "",
                ));
            }
            if rng.chance(3) {
                let friend = rng.pick(FRIENDS);
                out.push(transfer(
                    at(rng, day, 12, 23),
                    false,
                    friend,
                    rng.won(10_000, 80_000, 1_000),
                ));
            }
            if dom == 1 && matches!(month, 3 | 6 | 9 | 12) {
                out.push(event(
                    at(rng, day, 2, 3),
                    true,
                    "이자",
                    "예금이자",
                    rng.won(80, 2_400, 1),
                    "",
                ));
            }
        }
        Role::Savings => {
            if dom == 26 {
                out.push(event(
                    at(rng, day, 8, 9),
                    true,
                    "이체",
                    format!("{} 적금", person.name),
                    300_000,
                    "",
                ));
            }
            if dom == 1 && matches!(month, 3 | 6 | 9 | 12) {
                out.push(event(
                    at(rng, day, 2, 3),
                    true,
                    "이자",
                    "적금이자",
                    rng.won(9_000, 48_000, 1),
                    "",
                ));
            }
        }
    }
    out
}

fn random_bytes(rng: &mut impl RngCore, len: usize) -> Vec<u8> {
    let mut bytes = vec![0; len];
    rng.fill_bytes(&mut bytes);
    bytes
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
