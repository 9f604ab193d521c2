// The English dictionary. Its shape is Korean's (the compiler refuses a missing or extra key);
// see ko.ts for how messages are written.

import type { Dictionary } from './index';

export const en: Dictionary = {
  app: {
    name: 'Moa',
    tagline: 'All your accounts in one place',
  },
  nav: {
    dashboard: 'Home',
    accounts: 'Accounts',
    transfer: 'Transfer',
    settings: 'Settings',
  },
  preferences: {
    language: 'Language',
    theme: 'Theme',
    theme_system: 'System',
    theme_light: 'Light',
    theme_dark: 'Dark',
  },
  amount: {
    label: 'Amount',
    error: {
      empty: 'Enter an amount.',
      not_a_number: 'Use digits only.',
      fraction: 'Amounts are in whole won.',
      signed: 'Enter the amount to send, without + or -.',
      zero: 'Enter an amount above ₩0.',
      too_large: 'That amount is too large.',
      over_balance: 'That is more than the available balance ({max}).',
      over_per_transfer_limit: 'That is over the per-transfer limit ({max}).',
      over_daily_limit: 'That is over what is left of today’s limit ({max}).',
    },
  },
  error: {
    network: 'Check your internet connection.',
    auth_expired: 'Your sign-in has expired. Please authenticate again.',
    consent_expired: 'Your consent to view these accounts has expired. Please renew it.',
    bank_outage: '{bank} is down right now.',
    bank_not_open: '{bank} has not opened for the day yet.',
    bank_terminated: '{bank} has closed for the day.',
    bank_slow: '{bank} is slow to answer.',
    refused: 'The bank refused the request.',
    unknown: 'Something went wrong. Please try again in a moment.',
  },
  transfer: {
    status: {
      settling: 'Checking the result of the transfer.',
      outcome_unknown:
        'The result of the transfer is not known yet. We will tell you when it is. Do not send it again.',
      refunded: 'The deposit did not go through, so the money was returned to the source account.',
      completed: 'Transfer complete.',
    },
  },
  bank_status: {
    Y: 'Available',
    D: 'Outage',
    L: 'Not yet open',
    E: 'Closed for the day',
  },
  time: {
    just_now: 'just now',
    minutes_ago: { one: '1 minute ago', other: '{n} minutes ago' },
    hours_ago: { one: '1 hour ago', other: '{n} hours ago' },
    days_ago: { one: '1 day ago', other: '{n} days ago' },
    as_of: 'as of {when}',
  },
  csv: {
    date: 'Date',
    time: 'Time',
    bank: 'Bank',
    account: 'Account',
    description: 'Description',
    withdrawal: 'Withdrawal',
    deposit: 'Deposit',
    balance_after: 'Balance after',
  },
};
