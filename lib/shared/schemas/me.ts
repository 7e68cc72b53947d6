import type { TImpersonationInfo } from './impersonation';

export interface TMeDto {
  user: { id: string; email: string; name: string; mustChangePassword: boolean };
  account: { id: string; name: string; kind: 'carrier' | 'reseller' | 'customer' };
  group: { id: string; name: string };
  grants: string[];
  impersonation: TImpersonationInfo | null;
}
