import { type AddressAllowList, parseAllowList } from "../../src/net/index.ts";

/** An allow list of the given addresses, as URL_FETCH_ALLOW would configure it. */
export function allowing(addresses: readonly string[]): AddressAllowList {
  const parsed = parseAllowList(addresses.join(","));
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.list;
}
