export { ACCEPTED_FORMATS, type AcceptedFormat, type Sniffed, sniffFormat } from "./sniff.ts";
