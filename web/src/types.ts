// Shapes of the relais API's answers (docs/openapi.yaml, components/schemas).

export type UserRole = 'admin' | 'comms' | 'employee';
export type UserStatus = 'active' | 'disabled';
export type Locale = 'en' | 'fr';
export type Visibility = 'open' | 'request' | 'secret';
export type MemberRole = 'member' | 'expert' | 'manager';
export type MemberStatus = 'active' | 'requested' | 'invited';
export type Scope = 'read' | 'questions:write' | 'admin';

export const USER_ROLES: readonly UserRole[] = ['employee', 'comms', 'admin'];
export const USER_STATUSES: readonly UserStatus[] = ['active', 'disabled'];
export const VISIBILITIES: readonly Visibility[] = ['open', 'request', 'secret'];
export const MEMBER_ROLES: readonly MemberRole[] = ['member', 'expert', 'manager'];
export const SCOPES: readonly Scope[] = ['read', 'questions:write', 'admin'];

export const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Day = (typeof DAYS)[number];
export type TimeRange = [string, string];
export type WorkingHours = Partial<Record<Day, TimeRange[]>>;

/** A tag: lower-case letters, digits and dashes, 1 to 48, not starting with a dash. */
export const TAG_PATTERN = /^[a-z0-9][a-z0-9-]{0,47}$/;

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ExpertiseItem {
  tag: string;
  level: number;
}

/** The person who is signed in (POST /session's `user`). */
export interface SessionUser {
  id: number;
  email: string;
  display_name: string;
  role: UserRole;
  locale: Locale;
}

export interface OwnProfile extends SessionUser {
  department: string;
  job_title: string;
  time_zone: string;
  status: UserStatus;
  languages: string[];
  weekly_cap: number;
  working_hours: WorkingHours;
  expertise: ExpertiseItem[];
  created_at: string;
}

export interface OutOfOffice {
  id: number;
  starts_at: string;
  ends_at: string;
  note: string;
}

export interface MyCommunity {
  id: number;
  slug: string;
  name: string;
  role: MemberRole;
  status: MemberStatus;
}

export interface Me extends OwnProfile {
  out_of_office: OutOfOffice[];
  communities: MyCommunity[];
  csrf_token: string;
}

export interface Person {
  id: number;
  display_name: string;
  department: string;
  job_title: string;
  languages: string[];
  expertise: ExpertiseItem[];
}

export interface PersonProfile extends Person {
  email: string;
  time_zone: string;
  status: UserStatus;
  away_until: string | null;
  communities: Array<{ id: number; slug: string; name: string; role: MemberRole }>;
}

export interface Community {
  id: number;
  slug: string;
  name: string;
  description: string;
  visibility: Visibility;
  topics: string[];
  member_count: number;
  created_at: string;
}

export interface CommunityListItem extends Community {
  my_role: MemberRole | null;
  my_status: MemberStatus | null;
}

export interface CommunityDetail extends CommunityListItem {
  manages: boolean;
  managers: Array<{ id: number; display_name: string }>;
}

export interface Member {
  id: number;
  display_name: string;
  department: string;
  job_title: string;
  expertise: ExpertiseItem[];
  role: MemberRole;
  status: MemberStatus;
  since: string;
}

export interface Membership {
  user_id: number;
  role: MemberRole;
  status: MemberStatus;
}

export interface SessionInfo {
  id: number;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip: string;
  user_agent: string;
  current: boolean;
}

export interface User {
  id: number;
  email: string;
  display_name: string;
  department: string;
  job_title: string;
  locale: Locale;
  time_zone: string;
  role: UserRole;
  status: UserStatus;
  created_at: string;
}

export interface ApiToken {
  id: number;
  name: string;
  scopes: Scope[];
  created_by: number;
  created_by_name: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface NewApiToken {
  id: number;
  name: string;
  scopes: Scope[];
  created_at: string;
  token: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor_user_id: number | null;
  actor_name: string | null;
  actor_token_id: number | null;
  action: string;
  object_type: string;
  object_id: string;
  ip: string;
  request_id: string;
  details: Record<string, unknown>;
}

export interface ResetLink {
  reset_url: string;
  token: string;
  expires_at: string;
}

// --- External questions (docs/questions.md) ---------------------------------------------------

export type QuestionStatus =
  | 'triage'
  | 'routing'
  | 'assigned'
  | 'claimed'
  | 'waiting_customer'
  | 'escalated'
  | 'refused'
  | 'answered'
  | 'closed';

export interface PersonRef {
  id: number;
  display_name: string;
}

/** Managers and admins see who the customer is; everyone else sees a pseudonym only. */
export interface Customer {
  pseudonym?: string;
  name?: string;
  email?: string;
  external_ref?: string;
}

export interface QuestionListItem {
  id: number;
  title: string;
  status: QuestionStatus;
  language?: string;
  tags?: string[];
  community?: { id: number; name: string; slug?: string } | null;
  channel?: { id: number; name: string; kind?: ChannelKind } | null;
  customer?: Customer;
  assignee?: PersonRef | null;
  claimed_by?: PersonRef | null;
  sla_due_at?: string | null;
  sla_remaining_seconds?: number | null;
  escalation_level?: number;
  crisis?: boolean;
  triage_reason?: string;
  created_at?: string;
  updated_at?: string;
}

export interface QuestionMessage {
  id: number;
  author: 'customer' | 'expert' | 'system';
  author_user?: PersonRef | null;
  body: string;
  created_at: string;
}

export interface RoutingParts {
  expertise?: number;
  language?: number;
  availability?: number;
  load?: number;
  [part: string]: number | undefined;
}

export interface RoutingDecision {
  user: PersonRef;
  rank: number;
  score: number;
  parts: RoutingParts;
  created_at: string;
}

export interface TimelineEvent {
  id: number;
  kind: string;
  actor: PersonRef | null;
  details: Record<string, unknown>;
  at: string;
}

export interface QuestionCan {
  claim: boolean;
  unclaim: boolean;
  decline: boolean;
  assign: boolean;
  message: boolean;
}

export interface QuestionDetail extends QuestionListItem {
  body: string;
  url?: string;
  topic?: string;
  primary_expert: PersonRef | null;
  backup_expert: PersonRef | null;
  messages: QuestionMessage[];
  routing: RoutingDecision[];
  timeline: TimelineEvent[];
  can: QuestionCan;
}

export interface QuestionComment {
  id: number;
  author: PersonRef | null;
  body: string;
  mentions: Array<PersonRef | number>;
  created_at: string;
}

export interface Notification {
  id: number;
  kind: string;
  question_id: number | null;
  actor_user_id: number | null;
  data: Record<string, unknown>;
  created_at: string;
}

export type ChannelKind = 'api' | 'web_form' | 'email';
export type ChannelStatus = 'active' | 'disabled';

export interface Channel {
  id: number;
  kind: ChannelKind;
  name: string;
  slug: string;
  community_id: number;
  community_name: string;
  language: string;
  sla_seconds: number;
  owner_user_id: number;
  status: ChannelStatus;
  created_at: string;
}

export interface NewChannel extends Channel {
  secret?: string;
}

export interface Delivery {
  id: number;
  webhook_id: string;
  received_at: string;
  status: number;
  error_code: string;
  question_id: number | null;
  ip?: string;
}

export type RuleAction = 'answer' | 'escalate' | 'refuse';
export const RULE_ACTIONS: readonly RuleAction[] = ['answer', 'escalate', 'refuse'];

export interface PerimeterRule {
  id?: number;
  position?: number;
  name: string;
  tags: string[];
  keywords: string[];
  languages: string[];
  action: RuleAction;
  owner_user_id?: number | null;
  canned_reply: string;
  topic: string;
}

export interface CrisisTopic {
  topic: string;
  reason: string;
  since?: string;
  set_by?: number | null;
}

export interface RulesAnswer {
  rules: PerimeterRule[];
  crisis: CrisisTopic[];
}

export type CustomerStatus = 'received' | 'in_progress' | 'waiting_for_you' | 'answered' | 'closed' | 'declined';

export interface FollowAnswer {
  question: { title: string; body: string; language: string; status: CustomerStatus; created_at: string };
  messages: Array<{ id: number; author: 'customer' | 'company'; body: string; created_at: string }>;
}

/** A list answer: the API's pages have `items`; tolerate a bare array or a named list. */
export function listOf<T>(answer: unknown, name?: string): T[] {
  if (Array.isArray(answer)) return answer as T[];
  if (answer && typeof answer === 'object') {
    const o = answer as Record<string, unknown>;
    if (Array.isArray(o.items)) return o.items as T[];
    if (name && Array.isArray(o[name])) return o[name] as T[];
  }
  return [];
}
