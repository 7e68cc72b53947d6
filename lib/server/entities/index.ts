import { Account } from './account.entity';
import { Group } from './group.entity';
import { User } from './user.entity';
import { ChangeLogEntry } from './change-log.entity';

export { Account, Group, User, ChangeLogEntry };
export type { TAccount, TAccountKind } from './account.entity';
export type { TGroup } from './group.entity';
export type { TUser } from './user.entity';
export type { TChangeLogEntry } from './change-log.entity';

/** Every entity, listed explicitly: no folder discovery (it breaks under Next's bundler). */
export const ENTITIES = [Account, Group, User, ChangeLogEntry];
