// The two decoders that ship without type declarations; prepare/ declares the little of them it uses.
declare module '@cornerstonejs/codec-openjpeg/decodewasmjs' {
  const factory: (options: { print?: (s: string) => void; printErr?: (s: string) => void }) => Promise<unknown>;
  export default factory;
}
declare module '@cornerstonejs/codec-openjpeg/wasmjs' {
  const factory: (options: { print?: (s: string) => void; printErr?: (s: string) => void }) => Promise<unknown>;
  export default factory;
}
declare module 'bmp-js' {
  const bmp: { decode(buffer: Buffer): { width: number; height: number; data: Buffer } };
  export default bmp;
}
