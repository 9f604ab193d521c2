// The Korean dictionary: the source of every message key. English (en.ts) must match its shape,
// which the compiler checks, and its placeholders, which i18n.test.ts checks.
//
// Writing rules for messages:
// - Placeholders are `{name}`. Amounts arrive already formatted by money.ts, times by time.ts.
// - No Korean particle right after a placeholder (은/는, 이/가, 을/를): which one fits depends on
//   the word filled in. Phrase around it instead ("은행: {bank}", "{bank} 점검 중").
// - A node with exactly `one` and `other` is a count message; `{n}` is the count.

export const ko = {
  app: {
    name: '모아',
    tagline: '내 모든 계좌를 한곳에',
  },
  nav: {
    dashboard: '홈',
    accounts: '계좌',
    transfer: '이체',
    settings: '설정',
  },
  preferences: {
    language: '언어',
    theme: '화면 테마',
    theme_system: '시스템 설정',
    theme_light: '밝게',
    theme_dark: '어둡게',
  },
  amount: {
    label: '금액',
    error: {
      empty: '금액을 입력해 주세요.',
      not_a_number: '숫자로만 입력해 주세요.',
      fraction: '원 단위까지만 입력할 수 있어요.',
      signed: '+나 - 없이 보낼 금액만 입력해 주세요.',
      zero: '0원보다 큰 금액을 입력해 주세요.',
      too_large: '입력할 수 있는 금액을 넘었어요.',
      over_balance: '출금 가능 금액({max})보다 많아요.',
      over_per_transfer_limit: '1회 이체 한도({max})를 넘었어요.',
      over_daily_limit: '오늘 남은 이체 한도({max})를 넘었어요.',
    },
  },
  error: {
    network: '인터넷 연결을 확인해 주세요.',
    auth_expired: '로그인이 만료되었어요. 다시 인증해 주세요.',
    consent_expired: '계좌 조회 동의 기간이 끝났어요. 동의를 다시 진행해 주세요.',
    bank_outage: '{bank} 전산 장애로 지금은 이용할 수 없어요.',
    bank_not_open: '{bank} 업무 시작 전이에요.',
    bank_terminated: '{bank} 업무 시간이 끝났어요.',
    bank_slow: '{bank} 응답이 늦어지고 있어요.',
    refused: '은행에서 요청을 거절했어요.',
    unknown: '알 수 없는 문제가 생겼어요. 잠시 후 다시 시도해 주세요.',
  },
  transfer: {
    status: {
      settling: '이체 결과를 확인하고 있어요.',
      outcome_unknown: '이체 결과를 아직 알 수 없어요. 확인되면 알려 드릴게요. 다시 보내지 마세요.',
      refunded: '입금이 되지 않아 보낸 돈을 출금 계좌로 돌려드렸어요.',
      completed: '이체가 끝났어요.',
    },
  },
  bank_status: {
    Y: '거래가능',
    D: '장애',
    L: '개시이전',
    E: '종료',
  },
  time: {
    just_now: '방금',
    minutes_ago: { one: '1분 전', other: '{n}분 전' },
    hours_ago: { one: '1시간 전', other: '{n}시간 전' },
    days_ago: { one: '1일 전', other: '{n}일 전' },
    as_of: '{when} 기준',
  },
  csv: {
    date: '거래일',
    time: '거래시각',
    bank: '은행',
    account: '계좌',
    description: '내용',
    withdrawal: '출금',
    deposit: '입금',
    balance_after: '거래 후 잔액',
  },
} as const;
