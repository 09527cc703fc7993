// What the fake model says. A replier maps a ReplyRequest to a ReplySpec; the default one answers with a
// page_ocr JSON object (rules/page_ocr.ts: the original pipeline's output model) built only from the image
// sha256 and the previous-page context, so identical inputs always give byte-identical replies.
import type { ReplyRequest } from './requests.js';

export type ReplySpec =
  /** A JSON value; it becomes the text part, serialised with JSON.stringify. */
  | { json: unknown; thoughtsTokenCount?: number }
  /** Literal text for the first candidate's part. */
  | { text: string; finishReason?: string; thoughtsTokenCount?: number }
  /** A per-record failure: google.rpc code (13 INTERNAL, 3 INVALID_ARGUMENT, …). */
  | { error: { code: number; message: string } };

export type Replier = (request: ReplyRequest) => ReplySpec;

/** image sha256 hex → ground-truth text, paragraphs separated by blank lines. */
export type GroundTruth = ReadonlyMap<string, string>;

const LEVELS = ['Preparatory', 'Freshman', 'Sophomore', 'Junior', 'Senior', 'Graduate', 'Elective'];
const COURSE = new RegExp(`^([A-Z][^.]{1,80})\\. (${LEVELS.join('|')})(?: Class)?\\. (.*)$`, 's');

export function defaultReplier(groundTruth: GroundTruth = new Map()): Replier {
  return (request) => ({ json: pageOcrReply(request, groundTruth) });
}

/** A page_ocr object: ground-truth paragraphs when the image is known, else text derived from its hash. */
export function pageOcrReply(request: Pick<ReplyRequest, 'imageSha256' | 'contextHash'>, groundTruth: GroundTruth): Record<string, unknown> {
  const sha = request.imageSha256;
  const truth = sha === undefined ? undefined : groundTruth.get(sha);
  const paragraphs = truth === undefined ? syntheticParagraphs(sha) : splitParagraphs(truth);
  const context = request.contextHash === null ? 'none' : `sha256:${request.contextHash}`;
  const text_blocks = paragraphs.map((text, i) => ({
    block_id: i + 1,
    position: i === 0 ? 'header' : i === paragraphs.length - 1 && paragraphs.length > 2 ? 'footer' : 'body',
    text,
    font_style: 'regular',
  }));
  const facts = readFacts(paragraphs);
  return {
    raw_ocr: {
      text_blocks,
      layout_description: `Fake Gemini page: ${text_blocks.length} text blocks in one column (${truth === undefined ? 'synthetic text' : 'ground truth'}); previous-context: ${context}`,
    },
    page_info: {
      page_number: facts.pageNumber,
      is_complete_page: true,
      content_type: facts.courses.length > 0 ? 'courses' : facts.schoolName !== null && paragraphs.length <= 4 ? 'administration' : 'other',
    },
    school_name: facts.schoolName,
    catalog_year: facts.catalogYear,
    academic_year: facts.academicYear,
    courses: facts.courses,
  };
}

export function splitParagraphs(text: string): string[] {
  return text.split(/\r?\n[ \t]*\r?\n/).map((p) => p.trim()).filter((p) => p.length > 0);
}

function syntheticParagraphs(sha: string | undefined): string[] {
  if (sha === undefined) return ['A page without an image.'];
  return [`PAGE ${sha.slice(0, 8).toUpperCase()}`, `Fake OCR text for image sha256:${sha.slice(0, 16)}.`, `Second paragraph of ${sha.slice(16, 24)}.`];
}

interface Facts {
  /** As printed (the original model's page number is a string). */
  pageNumber: string | null;
  schoolName: string | null;
  catalogYear: string | null;
  academicYear: string | null;
  courses: Array<Record<string, unknown>>;
}

/** A light reading of catalogue paragraphs, so extraction fields carry something plausible. */
function readFacts(paragraphs: readonly string[]): Facts {
  const facts: Facts = { pageNumber: null, schoolName: null, catalogYear: null, academicYear: null, courses: [] };
  let department: string | null = null;
  for (const [index, paragraph] of paragraphs.entries()) {
    // A running head such as `HOWARD COLLEGE. 2` (or a folio line at the foot) carries the page number.
    const edge = (index === 0 || index === paragraphs.length - 1) && paragraph.length <= 60;
    const head = edge ? /^(?:(.*?)\.?\s+)?(\d{1,3})$/.exec(paragraph) : null;
    if (head?.[2] && facts.pageNumber === null) facts.pageNumber = head[2];
    const text = head ? (head[1] ?? '') : paragraph;
    const years = /(1[789]\d\d)\s*[-–]\s*(\d{2,4})/.exec(text);
    if (years && facts.academicYear === null) facts.academicYear = `${years[1]}-${years[2]}`;
    const year = /\b(1[789]\d\d)\b/.exec(text);
    if (year?.[1] && facts.catalogYear === null) facts.catalogYear = year[1];
    if (facts.schoolName === null && text.length <= 60 && /^[A-Z][A-Z .,'-]*\b(COLLEGE|UNIVERSITY|INSTITUTE|ACADEMY|SEMINARY)\b[A-Z .,'-]*$/.test(text)) {
      facts.schoolName = text.replace(/\.$/, '');
    }
    const dept = /^DEPARTMENT OF ([A-Z ,&]+)\.?$/.exec(text);
    if (dept?.[1]) department = dept[1].trim();
    const course = COURSE.exec(text);
    if (course?.[1] && course[2] && course[3] !== undefined) {
      facts.courses.push({
        course_name: course[1].trim(),
        department,
        level: course[2],
        topics: (course[3].split(/ Text-books?:/)[0] ?? '').split(';').map((t) => t.trim().replace(/\.$/, '')).filter(Boolean),
        textbooks: [],
        term: null,
        instructors: [],
        description: null,
      });
    }
  }
  return facts;
}
