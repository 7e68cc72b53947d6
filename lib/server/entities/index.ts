import { Account } from './account.entity';
import { Group } from './group.entity';
import { User } from './user.entity';
import { CarrierLogHead, ChangeLogEntry } from './change-log.entity';
import { ApiToken } from './api-token.entity';
import {
  LoginAccountThrottle,
  LoginIpThrottle,
  LoginKnownAddress,
  LoginThrottle,
  PasswordChangeThrottle,
} from './login-throttle.entity';
import { Impersonation } from './impersonation.entity';
import { UserSession } from './user-session.entity';
import { Card, CardAssignment } from './card.entity';
import { Notification, OutboxMail } from './notification.entity';
import { LedgerEntry } from './ledger.entity';

export {
  Account,
  Group,
  User,
  ChangeLogEntry,
  CarrierLogHead,
  ApiToken,
  LoginThrottle,
  LoginIpThrottle,
  LoginAccountThrottle,
  LoginKnownAddress,
  PasswordChangeThrottle,
  Impersonation,
  UserSession,
  Card,
  CardAssignment,
  Notification,
  OutboxMail,
  LedgerEntry,
};
export type { TAccount, TAccountKind } from './account.entity';
export type { TGroup } from './group.entity';
export type { TUser } from './user.entity';
export type { TChangeLogEntry } from './change-log.entity';
export type { TApiToken } from './api-token.entity';
export type { TCard, TCardKind, TCardAssignment } from './card.entity';
export type { TNotification, TOutboxMail } from './notification.entity';
export type { TLedgerEntry, TLedgerKind } from './ledger.entity';

/** Every entity, listed explicitly: no folder discovery (it breaks under Next's bundler). */
export const ENTITIES = [
  Account,
  Group,
  User,
  ChangeLogEntry,
  CarrierLogHead,
  ApiToken,
  LoginThrottle,
  LoginIpThrottle,
  LoginAccountThrottle,
  LoginKnownAddress,
  PasswordChangeThrottle,
  Impersonation,
  UserSession,
  Card,
  CardAssignment,
  Notification,
  OutboxMail,
  LedgerEntry,
];
