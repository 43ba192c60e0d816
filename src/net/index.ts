/**
 * Which network destinations an image URL may reach, decided from text alone so both tiers share one rule: IP
 * address classes (public unicast or refused with a reason) and the URL check run before any network work. The
 * GPU tier adds what only a resolver can know (gpu-service/fetch/).
 */
export {
  ADDRESS_REFUSAL_TEXT,
  type AddressClass,
  type AddressRefusal,
  canonicalAddress,
  classifyAddress,
  type EmbeddedIPv4,
  type EmbeddingKind,
} from "./address.ts";
export {
  type AddressList,
  type AddressListResult,
  type AddressRange,
  EMPTY_ADDRESS_LIST,
  parseAddressList,
} from "./address-list.ts";
export {
  type AddressAllowList,
  EMPTY_ALLOW_LIST,
  exemptedByAllowList,
  parseAllowList,
} from "./allow-list.ts";
export { IMAGE_FETCH_USER_AGENT, isImageFetcher } from "./image-fetch-agent.ts";
export { checkImageUrl, type ImageUrlCheckOptions, ipLiteralHost } from "./image-url.ts";
