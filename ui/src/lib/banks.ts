// The banks of Korean Open Banking (KFTC's `bank_code_std`), for choosing where money goes.
// Names are proper nouns, kept here in both languages rather than in the dictionaries.

import type { Lang } from './lang';

export interface Bank {
  code: string;
  ko: string;
  en: string;
}

export const BANKS: readonly Bank[] = [
  { code: '002', ko: 'KDB산업은행', en: 'KDB Bank' },
  { code: '003', ko: 'IBK기업은행', en: 'IBK Industrial Bank' },
  { code: '004', ko: 'KB국민은행', en: 'KB Kookmin Bank' },
  { code: '007', ko: '수협은행', en: 'Suhyup Bank' },
  { code: '011', ko: 'NH농협은행', en: 'NH Nonghyup Bank' },
  { code: '020', ko: '우리은행', en: 'Woori Bank' },
  { code: '023', ko: 'SC제일은행', en: 'SC First Bank' },
  { code: '027', ko: '한국씨티은행', en: 'Citibank Korea' },
  { code: '031', ko: '대구은행(iM뱅크)', en: 'iM Bank (Daegu)' },
  { code: '032', ko: '부산은행', en: 'Busan Bank' },
  { code: '034', ko: '광주은행', en: 'Kwangju Bank' },
  { code: '035', ko: '제주은행', en: 'Jeju Bank' },
  { code: '037', ko: '전북은행', en: 'Jeonbuk Bank' },
  { code: '039', ko: '경남은행', en: 'Kyongnam Bank' },
  { code: '045', ko: '새마을금고', en: 'MG Saemaul Geumgo' },
  { code: '048', ko: '신협', en: 'Shinhyup' },
  { code: '050', ko: '상호저축은행', en: 'Savings Banks' },
  { code: '071', ko: '우체국', en: 'Korea Post' },
  { code: '081', ko: '하나은행', en: 'Hana Bank' },
  { code: '088', ko: '신한은행', en: 'Shinhan Bank' },
  { code: '089', ko: '케이뱅크', en: 'K Bank' },
  { code: '090', ko: '카카오뱅크', en: 'KakaoBank' },
  { code: '092', ko: '토스뱅크', en: 'Toss Bank' },
  { code: '097', ko: '오픈은행', en: 'Open Bank (test)' },
  { code: '099', ko: '금융결제원', en: 'KFTC' },
];

/**
 * A bank's name in the reader's language. A code the table does not know is shown by the name
 * the center gave for it (`fallback`), else as the code itself.
 */
export function bankName(code: string, lang: Lang, fallback?: string): string {
  const bank = BANKS.find((b) => b.code === code);
  if (bank !== undefined) return bank[lang];
  return fallback !== undefined && fallback.trim() !== '' ? fallback : code;
}
