export {
  API_KEY_PREFIX,
  generateApiKey,
  hashApiKey,
  isWellFormedApiKey,
  keyHint,
  newKeyId,
  newUsageRecordId,
} from "./key-format.ts";
export { ACCOUNT_PATTERN, ApiKeyRecord, CreatedApiKey, DEFAULT_ACCOUNT } from "./key-record.ts";
export {
  dayOf,
  monthBounds,
  monthOf,
  parseBound,
  type ReportRange,
  reportRange,
  secondsUntilMonthEnds,
} from "./periods.ts";
export {
  CURRENCY,
  DEFAULT_PLAN,
  DEFAULT_PLANS,
  PLAN_NAME,
  type Plan,
  type PlanInput,
  PlanSchema,
  type Plans,
  PlansSchema,
  parsePlans,
  QUOTA_DIMENSIONS,
  type QuotaDimension,
  type StorageLimits,
} from "./plans.ts";
export { type LimitsSnapshot, rateLimitHeaders } from "./ratelimit-headers.ts";
export { type BucketLimits, type BucketState, peek, type TakeResult, take } from "./token-bucket.ts";
export {
  buildUsageRecord,
  CSV_COLUMNS,
  costMicros,
  csvLine,
  ExportedUsageRecordSchema,
  formatMicros,
  type RecordInput,
  sumUnits,
  type Units,
  type UnitTotals,
  type UsageRecord,
  UsageRecordSchema,
  unitsOf,
} from "./usage-record.ts";
