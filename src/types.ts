// Branded strings for values that must never be mixed up (STYLE §5).
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** Wildcard values in pattern order joined by `:`, e.g. `Alabama:Howard College:1849:14`. */
export type TargetKey = Brand<string, 'TargetKey'>;
/** sha256 hex of a file's bytes or of a string. */
export type ContentHash = Brand<string, 'ContentHash'>;
/** sha256 hex of the canonical request of a target. */
export type Fingerprint = Brand<string, 'Fingerprint'>;

export const asKey = (s: string): TargetKey => s as TargetKey;
export const asHash = (s: string): ContentHash => s as ContentHash;
export const asFingerprint = (s: string): Fingerprint => s as Fingerprint;
