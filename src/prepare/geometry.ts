// The arithmetic of preparation, shared by the prepare stage and the cost estimate so that the estimate's
// image sizes are the ones the engine will be sent. Pure: no I/O.

/** A page's physical long edge assumed when nothing says its resolution: between octavo (9") and letter (11"). */
export const ASSUMED_LONG_EDGE_INCHES = 10;
/** A resolution in a file's header below this is a program's default (72, 96), not a scanner's setting. */
export const MIN_TRUSTED_DPI = 100;
export const MAX_DPI = 2400;

/** The size after fitting inside a `max`-pixel square (never enlarged), rounded as libvips rounds it. */
export function fitLongEdge(width: number, height: number, max: number | null): { width: number; height: number; scale: number } {
  const long = Math.max(width, height);
  if (max === null || long <= max) return { width, height, scale: 1 };
  const scale = max / long;
  return width >= height
    ? { width: max, height: Math.max(1, Math.round(height * scale)), scale }
    : { width: Math.max(1, Math.round(width * scale)), height: max, scale };
}

/** EXIF orientations 5–8 turn the image a quarter: its width and height swap. */
export function oriented(width: number, height: number, orientation: number | undefined): { width: number; height: number } {
  return orientation !== undefined && orientation >= 5 && orientation <= 8 ? { width: height, height: width } : { width, height };
}

/** A header's resolution if it is believable (a scanner's setting), else null. */
export function trustedDpi(density: number | null | undefined): number | null {
  return density !== null && density !== undefined && Number.isFinite(density) && density >= MIN_TRUSTED_DPI && density <= MAX_DPI ? density : null;
}

/** The resolution of pixels with nothing to say it: the long edge over an assumed page size. */
export function derivedDpi(width: number, height: number): number {
  return clampDpi(Math.max(width, height) / ASSUMED_LONG_EDGE_INCHES);
}

export function clampDpi(dpi: number): number {
  return Math.round(Math.min(MAX_DPI, Math.max(70, dpi)));
}
