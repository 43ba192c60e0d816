/**
 * Fetching a caller's image URL from the GPU tier without letting it reach this machine or its network: text checks
 * from src/net, then DNS resolved once (a capped number of look-ups at a time), every address vetted, and the
 * connection pinned to the vetted addresses.
 */
export { type AddressPolicy, ownInterfaceAddresses, type Vetting, vetAddresses } from "./address-vetting.ts";
export { createDenyHostAddresses, type DenyHostAddresses } from "./deny-host-addresses.ts";
export {
  createImageFetcher,
  FETCH_FAILED_MESSAGE,
  type ImageFetchErrorCode,
  type ImageFetcher,
  type ImageFetcherOptions,
  type ImageFetchLimits,
  type ImageFetchResult,
} from "./fetch-image.ts";
export { type LookupSlots, LookupSlotsBusyError, limitLookups } from "./lookup-slots.ts";
export { createPinnedLookup, RefusedHostError } from "./pinned-lookup.ts";
export { type ResolveHost, systemResolve } from "./resolve.ts";
