//! The center's result codes (`rsp_code`), the banks' result codes (`bank_rsp_code`), the detail
//! codes of token errors, and a human message in Korean and English for each.
//!
//! Messages here are safe to show a person: they never include anything from the request.

use crate::wire::code_enum;

/// The language of a human message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Korean (the default: the API's users are in Korea).
    #[default]
    Ko,
    /// English.
    En,
}

impl Lang {
    /// The value of the authorize page's `lang` parameter: `kor` or `eng`.
    pub fn authorize_param(self) -> &'static str {
        match self {
            Lang::Ko => "kor",
            Lang::En => "eng",
        }
    }
}

/// What a center code means for the caller, grouped so policy can match on a few kinds rather
/// than dozens of codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RspKind {
    /// `A0000`.
    Success,
    /// The center could not tell how a transfer ended (`A0001`, `A0007`, `A0017`): ask
    /// `transfer/result`, never resend.
    OutcomeUnknown,
    /// The bank refused; its `bank_rsp_code` says why (`A0002`, `A0009`).
    BankError,
    /// The center failed internally (`A0003`).
    CenterFault,
    /// The request was malformed (`A0004`).
    Malformed,
    /// The same transaction was sent twice (`A0008`, `A0326`).
    Duplicate,
    /// The institution or user may not do this (`A0011`, `A0014`, `A0301`, `O0004`, `O0006`).
    Permission,
    /// Nothing to report (`A0018`).
    NoData,
    /// The service is closed at this hour (`A0020`).
    OutsideHours,
    /// The center sent a message meant to be shown verbatim (`A0021`).
    Notice,
    /// A transfer limit was reached (`A01xx`, `O0008`, `O0009`).
    Limit,
    /// The account, fintech number or user does not match (`A0304`, `A0310`, `A0312`, `A0313`,
    /// `A0322`, `A0323`, `A0324`, `A0325`, `A0307`).
    Mismatch,
    /// The user's consent is missing or expired (`A0305`, `A0306`, `A0316`, `A0319`).
    Consent,
    /// An OAuth parameter was wrong (`O0001`; the detail code is in the message).
    Auth,
    /// The access token was rejected (`O0002`).
    TokenRejected,
    /// The access token expired (`O0003`).
    TokenExpired,
    /// The token lacks the scope this API needs (`O0011`).
    Scope,
    /// The HTTP method is not allowed (`O0010`).
    Method,
    /// A code this crate does not know.
    Unknown,
}

code_enum!(
    /// A result code of the center (`rsp_code`), docs/protocol.md §6.
    RspCode {
        /// Success.
        A0000 = "A0000",
        /// In progress: ask transfer/result.
        A0001 = "A0001",
        /// Bank error: see bank_rsp_code.
        A0002 = "A0002",
        /// Center internal error.
        A0003 = "A0003",
        /// Malformed request.
        A0004 = "A0004",
        /// Processing timeout.
        A0007 = "A0007",
        /// Duplicate transaction.
        A0008 = "A0008",
        /// Per-item failure: read res_list.
        A0009 = "A0009",
        /// Institution lacks API permission.
        A0011 = "A0011",
        /// Withdrawn member.
        A0014 = "A0014",
        /// Bank response timeout.
        A0017 = "A0017",
        /// No transactions.
        A0018 = "A0018",
        /// Outside inquiry hours.
        A0020 = "A0020",
        /// A center message to show verbatim.
        A0021 = "A0021",
        /// Institution daily deposit limit.
        A0101 = "A0101",
        /// Institution monthly deposit limit.
        A0102 = "A0102",
        /// Institution daily withdraw limit.
        A0103 = "A0103",
        /// Institution monthly withdraw limit.
        A0104 = "A0104",
        /// Institution per-transfer withdraw limit.
        A0105 = "A0105",
        /// Institution per-transfer deposit limit.
        A0106 = "A0106",
        /// User per-transfer withdraw limit.
        A0111 = "A0111",
        /// User daily withdraw limit.
        A0112 = "A0112",
        /// No access right.
        A0301 = "A0301",
        /// fintech_use_num mismatch.
        A0304 = "A0304",
        /// Third-party information consent missing.
        A0305 = "A0305",
        /// Withdraw consent missing.
        A0306 = "A0306",
        /// Pass phrase mismatch.
        A0307 = "A0307",
        /// No such transfer.
        A0310 = "A0310",
        /// Holder name mismatch.
        A0312 = "A0312",
        /// User mismatch.
        A0313 = "A0313",
        /// Third-party consent expired.
        A0316 = "A0316",
        /// Withdraw consent expired.
        A0319 = "A0319",
        /// Unregistered contract account.
        A0322 = "A0322",
        /// Account not registered for this institution.
        A0323 = "A0323",
        /// Account already registered for inquiry.
        A0324 = "A0324",
        /// Account already registered for withdraw.
        A0325 = "A0325",
        /// bank_tran_id duplicated.
        A0326 = "A0326",
        /// Auth parameter error.
        O0001 = "O0001",
        /// Access token rejected.
        O0002 = "O0002",
        /// Access token expired.
        O0003 = "O0003",
        /// API not subscribed.
        O0004 = "O0004",
        /// IP not allowed.
        O0006 = "O0006",
        /// Usage plan exceeded.
        O0008 = "O0008",
        /// Usage plan exceeded.
        O0009 = "O0009",
        /// HTTP method not allowed.
        O0010 = "O0010",
        /// Scope not allowed.
        O0011 = "O0011",
    }
);

impl RspCode {
    /// What this code means for the caller.
    pub fn kind(&self) -> RspKind {
        use RspCode::*;
        match self {
            A0000 => RspKind::Success,
            A0001 | A0007 | A0017 => RspKind::OutcomeUnknown,
            A0002 | A0009 => RspKind::BankError,
            A0003 => RspKind::CenterFault,
            A0004 => RspKind::Malformed,
            A0008 | A0326 => RspKind::Duplicate,
            A0011 | A0014 | A0301 | O0004 | O0006 => RspKind::Permission,
            A0018 => RspKind::NoData,
            A0020 => RspKind::OutsideHours,
            A0021 => RspKind::Notice,
            A0101 | A0102 | A0103 | A0104 | A0105 | A0106 | A0111 | A0112 | O0008 | O0009 => {
                RspKind::Limit
            }
            A0304 | A0307 | A0310 | A0312 | A0313 | A0322 | A0323 | A0324 | A0325 => {
                RspKind::Mismatch
            }
            A0305 | A0306 | A0316 | A0319 => RspKind::Consent,
            O0001 => RspKind::Auth,
            O0002 => RspKind::TokenRejected,
            O0003 => RspKind::TokenExpired,
            O0010 => RspKind::Method,
            O0011 => RspKind::Scope,
            Other(_) => RspKind::Unknown,
        }
    }

    /// Whether this is `A0000`.
    pub fn is_success(&self) -> bool {
        *self == RspCode::A0000
    }

    /// A human message for this code.
    pub fn message(&self, lang: Lang) -> &'static str {
        use RspCode::*;
        let (ko, en) = match self {
            A0000 => ("정상 처리되었습니다", "Completed"),
            A0001 => (
                "처리 중입니다. 이체 결과를 확인하세요",
                "In progress; check the transfer result",
            ),
            A0002 => ("참가은행 오류입니다", "The bank reported an error"),
            A0003 => (
                "오픈뱅킹센터 내부 오류입니다",
                "The open banking center had an internal error",
            ),
            A0004 => ("요청 전문 형식 오류입니다", "The request was malformed"),
            A0007 => ("처리 시간이 초과되었습니다", "Processing timed out"),
            A0008 => ("중복 거래입니다", "Duplicate transaction"),
            A0009 => ("일부 처리에 실패했습니다", "Some items failed"),
            A0011 => (
                "이용기관에 API 권한이 없습니다",
                "The institution may not use this API",
            ),
            A0014 => ("탈퇴한 회원입니다", "The user has left the service"),
            A0017 => (
                "참가은행 응답 시간이 초과되었습니다",
                "The bank did not answer in time",
            ),
            A0018 => ("거래내역이 없습니다", "No transactions"),
            A0020 => ("조회 가능 시간이 아닙니다", "Outside service hours"),
            A0021 => (
                "오픈뱅킹센터 안내 메시지입니다",
                "A notice from the open banking center",
            ),
            A0101 => (
                "이용기관 일 입금한도를 초과했습니다",
                "Institution daily deposit limit reached",
            ),
            A0102 => (
                "이용기관 월 입금한도를 초과했습니다",
                "Institution monthly deposit limit reached",
            ),
            A0103 => (
                "이용기관 일 출금한도를 초과했습니다",
                "Institution daily withdrawal limit reached",
            ),
            A0104 => (
                "이용기관 월 출금한도를 초과했습니다",
                "Institution monthly withdrawal limit reached",
            ),
            A0105 => (
                "이용기관 건별 출금한도를 초과했습니다",
                "Institution per-transfer withdrawal limit exceeded",
            ),
            A0106 => (
                "이용기관 건별 입금한도를 초과했습니다",
                "Institution per-transfer deposit limit exceeded",
            ),
            A0111 => (
                "사용자 건별 출금한도를 초과했습니다",
                "Your per-transfer withdrawal limit exceeded",
            ),
            A0112 => (
                "사용자 일 출금한도를 초과했습니다",
                "Your daily withdrawal limit reached",
            ),
            A0301 => ("접근 권한이 없습니다", "No access right"),
            A0304 => (
                "핀테크이용번호가 일치하지 않습니다",
                "The fintech use number does not match",
            ),
            A0305 => (
                "제3자 정보제공 동의가 없습니다",
                "Third-party information consent is missing",
            ),
            A0306 => ("출금 동의가 없습니다", "Withdrawal consent is missing"),
            A0307 => (
                "출금 암호문구가 일치하지 않습니다",
                "The pass phrase does not match",
            ),
            A0310 => ("해당 거래가 없습니다", "No such transfer"),
            A0312 => (
                "예금주명이 일치하지 않습니다",
                "The account holder's name does not match",
            ),
            A0313 => ("사용자가 일치하지 않습니다", "The user does not match"),
            A0316 => (
                "제3자 정보제공 동의가 만료되었습니다",
                "Third-party information consent expired",
            ),
            A0319 => ("출금 동의가 만료되었습니다", "Withdrawal consent expired"),
            A0322 => (
                "등록되지 않은 약정계좌입니다",
                "The contract account is not registered",
            ),
            A0323 => (
                "이용기관에 등록되지 않은 계좌입니다",
                "The account is not registered with this institution",
            ),
            A0324 => (
                "이미 조회 등록된 계좌입니다",
                "The account is already registered for inquiry",
            ),
            A0325 => (
                "이미 출금 등록된 계좌입니다",
                "The account is already registered for withdrawal",
            ),
            A0326 => (
                "거래고유번호가 중복되었습니다",
                "The bank transaction id was already used",
            ),
            O0001 => ("인증 파라미터 오류입니다", "Authorization parameter error"),
            O0002 => (
                "유효하지 않은 접근 토큰입니다",
                "The access token was rejected",
            ),
            O0003 => ("접근 토큰이 만료되었습니다", "The access token expired"),
            O0004 => ("신청하지 않은 API입니다", "The API is not subscribed"),
            O0006 => ("허용되지 않은 IP입니다", "The IP address is not allowed"),
            O0008 => ("이용 한도를 초과했습니다", "The usage plan is exhausted"),
            O0009 => ("이용 한도를 초과했습니다", "The usage plan is exhausted"),
            O0010 => ("허용되지 않은 HTTP 메서드입니다", "HTTP method not allowed"),
            O0011 => (
                "허용되지 않은 권한 범위입니다",
                "The token's scope does not allow this",
            ),
            Other(_) => ("알 수 없는 응답 코드입니다", "Unknown response code"),
        };
        match lang {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }
}

code_enum!(
    /// A bank's result code (`bank_rsp_code`), docs/protocol.md §6.
    BankRspCode {
        /// OK.
        Ok = "000",
        /// No such account.
        NoSuchAccount = "412",
        /// Closed account.
        ClosedAccount = "415",
        /// Accident-reported account.
        AccidentReported = "419",
        /// Suspended account.
        Suspended = "420",
        /// Insufficient balance.
        InsufficientBalance = "453",
        /// Insufficient withdrawable balance.
        InsufficientAvailable = "454",
        /// Per-transfer limit exceeded.
        PerTransferLimit = "455",
        /// Daily limit exceeded.
        DailyLimit = "456",
        /// Requester name error.
        RequesterNameError = "461",
        /// Real-name number differs.
        RealNameMismatch = "463",
        /// Dormant account.
        Dormant = "467",
        /// E-banking restricted.
        EBankingRestricted = "471",
        /// Other: contact the branch.
        ContactBranch = "499",
        /// No such user.
        NoSuchUser = "555",
        /// Holder name mismatch.
        HolderNameMismatch = "815",
    }
);

impl BankRspCode {
    /// Whether this is `000`.
    pub fn is_ok(&self) -> bool {
        *self == BankRspCode::Ok
    }

    /// A human message for this code.
    pub fn message(&self, lang: Lang) -> &'static str {
        use BankRspCode::*;
        let (ko, en) = match self {
            Ok => ("정상", "OK"),
            NoSuchAccount => ("없는 계좌입니다", "No such account"),
            ClosedAccount => ("해지된 계좌입니다", "The account is closed"),
            AccidentReported => (
                "사고 신고된 계좌입니다",
                "The account has an accident report",
            ),
            Suspended => ("거래가 정지된 계좌입니다", "The account is suspended"),
            InsufficientBalance => ("잔액이 부족합니다", "Insufficient balance"),
            InsufficientAvailable => (
                "출금 가능 잔액이 부족합니다",
                "Insufficient withdrawable balance",
            ),
            PerTransferLimit => ("1회 이체한도를 초과했습니다", "Per-transfer limit exceeded"),
            DailyLimit => ("1일 이체한도를 초과했습니다", "Daily limit exceeded"),
            RequesterNameError => ("요청자 성명 오류입니다", "The requester's name is wrong"),
            RealNameMismatch => ("실명번호가 다릅니다", "The real-name number differs"),
            Dormant => ("휴면 계좌입니다", "The account is dormant"),
            EBankingRestricted => (
                "전자금융거래가 제한된 계좌입니다",
                "E-banking is restricted on this account",
            ),
            ContactBranch => (
                "기타 오류입니다. 영업점에 문의하세요",
                "Other error; contact the branch",
            ),
            NoSuchUser => ("해당 사용자가 없습니다", "No such user"),
            HolderNameMismatch => (
                "예금주명이 일치하지 않습니다",
                "The account holder's name does not match",
            ),
            Other(_) => (
                "알 수 없는 은행 응답 코드입니다",
                "Unknown bank response code",
            ),
        };
        match lang {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }
}

code_enum!(
    /// The detail code of an `O0001` token or authorization error, carried in brackets in the
    /// message, e.g. `인증 파라미터 오류([3000201])`. docs/protocol.md §2.2.
    AuthDetail {
        /// No bearer header.
        NoBearer = "992",
        /// A parameter is missing or duplicated.
        MissingParameter = "3000103",
        /// The client id or secret is wrong.
        BadClientCredentials = "3000201",
        /// The redirect_uri does not match the registered one.
        RedirectUriMismatch = "3000114",
        /// The scope is not registered for the client.
        ScopeNotRegistered = "3000115",
        /// Bad response_type.
        BadResponseType = "3000116",
        /// The session expired or the code was already used.
        CodeExpiredOrUsed = "3002110",
    }
);

impl AuthDetail {
    /// Extracts the detail code from an `O0001` message: the digits inside `([…])`, or failing
    /// that the last bracketed run of digits.
    pub fn from_message(message: &str) -> Option<AuthDetail> {
        let mut found = None;
        let mut rest = message;
        while let Some(open) = rest.find('[') {
            let after = &rest[open + 1..];
            let Some(close) = after.find(']') else { break };
            let inner = after[..close].trim();
            if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
                found = Some(AuthDetail::from_code(inner));
            }
            rest = &after[close + 1..];
        }
        found
    }

    /// A human message for this detail code.
    pub fn message(&self, lang: Lang) -> &'static str {
        use AuthDetail::*;
        let (ko, en) = match self {
            NoBearer => ("인증 헤더가 없습니다", "No bearer authorization header"),
            MissingParameter => (
                "필수 파라미터가 없거나 중복되었습니다",
                "A parameter is missing or duplicated",
            ),
            BadClientCredentials => (
                "이용기관 인증 정보가 올바르지 않습니다",
                "The client id or secret is wrong",
            ),
            RedirectUriMismatch => (
                "등록된 콜백 주소와 다릅니다",
                "The redirect URI is not the registered one",
            ),
            ScopeNotRegistered => (
                "등록되지 않은 권한 범위입니다",
                "The scope is not registered for this client",
            ),
            BadResponseType => ("response_type이 올바르지 않습니다", "Bad response_type"),
            CodeExpiredOrUsed => (
                "인증 세션이 만료되었거나 이미 사용된 코드입니다",
                "The session expired or the code was already used",
            ),
            Other(_) => ("알 수 없는 인증 오류입니다", "Unknown authorization error"),
        };
        match lang {
            Lang::Ko => ko,
            Lang::En => en,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CENTER: &[&str] = &[
        "A0000", "A0001", "A0002", "A0003", "A0004", "A0007", "A0008", "A0009", "A0011", "A0014",
        "A0017", "A0018", "A0020", "A0021", "A0101", "A0102", "A0103", "A0104", "A0105", "A0106",
        "A0111", "A0112", "A0301", "A0304", "A0305", "A0306", "A0307", "A0310", "A0312", "A0313",
        "A0316", "A0319", "A0322", "A0323", "A0324", "A0325", "A0326", "O0001", "O0002", "O0003",
        "O0004", "O0006", "O0008", "O0009", "O0010", "O0011",
    ];
    const BANK: &[&str] = &[
        "000", "412", "415", "419", "420", "453", "454", "455", "456", "461", "463", "467", "471",
        "499", "555", "815",
    ];

    #[test]
    fn every_reference_center_code_is_known_and_has_both_messages() {
        for code in CENTER {
            let c = RspCode::from_code(code);
            assert!(!matches!(c, RspCode::Other(_)), "{code} unknown");
            assert_ne!(c.kind(), RspKind::Unknown, "{code} has no kind");
            assert_eq!(c.code(), *code);
            assert!(!c.message(Lang::Ko).is_empty() && !c.message(Lang::En).is_empty());
            assert_ne!(c.message(Lang::Ko), c.message(Lang::En));
        }
    }

    #[test]
    fn every_reference_bank_code_is_known_and_has_both_messages() {
        for code in BANK {
            let c = BankRspCode::from_code(code);
            assert!(!matches!(c, BankRspCode::Other(_)), "{code} unknown");
            assert_eq!(c.code(), *code);
            assert_ne!(c.message(Lang::Ko), c.message(Lang::En));
        }
    }

    #[test]
    fn unknown_codes_are_kept_verbatim() {
        let c: RspCode = serde_json::from_str("\"A9999\"").expect("decode");
        assert_eq!(c, RspCode::Other("A9999".into()));
        assert_eq!(c.kind(), RspKind::Unknown);
        assert_eq!(serde_json::to_string(&c).expect("encode"), "\"A9999\"");
    }

    #[test]
    fn auth_detail_is_read_from_the_brackets() {
        assert_eq!(
            AuthDetail::from_message("인증 파라미터 오류([3000201])"),
            Some(AuthDetail::BadClientCredentials)
        );
        assert_eq!(
            AuthDetail::from_message("인증 파라미터 오류([992])"),
            Some(AuthDetail::NoBearer)
        );
        assert_eq!(
            AuthDetail::from_message("error [x] then ([3002110])"),
            Some(AuthDetail::CodeExpiredOrUsed)
        );
        assert_eq!(AuthDetail::from_message("인증 파라미터 오류"), None);
        assert_eq!(
            AuthDetail::from_message("오류([1234567])"),
            Some(AuthDetail::Other("1234567".into()))
        );
    }

    #[test]
    fn code_kinds_drive_policy() {
        assert_eq!(RspCode::A0007.kind(), RspKind::OutcomeUnknown);
        assert_eq!(RspCode::A0326.kind(), RspKind::Duplicate);
        assert_eq!(RspCode::O0003.kind(), RspKind::TokenExpired);
        assert_eq!(RspCode::A0112.kind(), RspKind::Limit);
        assert_eq!(RspCode::A0306.kind(), RspKind::Consent);
    }
}
