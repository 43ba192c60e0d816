import type { BankError } from "./bank.ts";
import type { BankManifest, BankModel } from "./bank-format.ts";

/** The served model, described as a bank manifest describes the model that built it. */
export interface ServedModel extends BankModel {
  dim: number;
}

/**
 * Whether a bank's embeddings are comparable with the served model's: same model id, dimension and vocabulary, and —
 * when both used the same precision — the same text encoder file. A bank embedded by another precision of the same
 * encoder is served with a note (its scores differ in the third decimal); anything else is refused, because a stale
 * bank (say, after retraining) would answer with confident nonsense.
 *
 * @example checkBankModel(manifest, served) → { ok: false, code: "model_mismatch", message: "… built for model …" }
 */
export function checkBankModel(
  manifest: BankManifest,
  served: ServedModel,
): { ok: true; notes: string[] } | BankError {
  const refuse = (message: string): BankError => ({ ok: false, code: "model_mismatch", message });
  const built = manifest.model;
  if (built.id !== served.id)
    return refuse(
      `the bank was built for model "${built.id}", this service serves "${served.id}"; rebuild it`,
    );
  if (manifest.dim !== served.dim)
    return refuse(`the bank has ${manifest.dim}-dimensional embeddings, the model ${served.dim}; rebuild it`);
  if (built.tokenizerSha256 !== served.tokenizerSha256)
    return refuse("the bank was built with another tokenizer vocabulary than the model's; rebuild it");
  if (built.textEncoder.precision !== served.textEncoder.precision) {
    return {
      ok: true,
      notes: [
        `the bank was embedded by the ${built.textEncoder.precision} text encoder, this service runs ${served.textEncoder.precision}; scores may differ slightly`,
      ],
    };
  }
  if (built.textEncoder.sha256 !== served.textEncoder.sha256) {
    return refuse(
      `the bank was embedded by another ${built.textEncoder.precision} text encoder than the model's (retrained or replaced?); rebuild it`,
    );
  }
  return { ok: true, notes: [] };
}
