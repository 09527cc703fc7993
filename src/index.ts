// The public API of ocrmake, as imported by ocrfile.ts and rules/*.ts (`import { defineOcrfile } from 'ocrmake'`).
export { defineOcrfile, defineRule } from './config/define.js';
export type {
  OcrfileInput,
  ImageOptions,
  RuleDefinition,
  EngineName,
  FilterValue,
  PageInfo,
  LocalOcrResult,
  LocalOcrBlock,
  LocalOcrParagraph,
  LocalOcrLine,
  LocalOcrWord,
  LocalOcrBox,
} from './config/define.js';
export { z } from 'zod';
