// The course-catalog rule: one scanned catalog page in, its OCR text and the courses it lists out.
//
// Its schema is the output model of the original Python pipeline this tool replaces, field for field (names,
// types, which may be null), so outputs move both ways: the original's outputs adopt without a rejection, and
// its models load ours. Its context for the next page is the original's too (`LAST_500_CHARS:` then
// `LAST_3_COURSES:`), so a Jinja prompt written for the original renders the same text here.
import { defineRule, z } from 'ocrmake';
import type { LocalOcrResult, PageInfo } from 'ocrmake';

const TextBlock = z.object({
  block_id: z.number().int().describe('1-based reading order of the block on the page'),
  position: z.string().describe('where the block sits: top, center, bottom, left-column, right-column, header, footer or margin'),
  text: z.string().describe('the complete text of the block, line breaks kept'),
  font_style: z.string().describe('large-heading, bold, italic, uppercase, small-caps, normal, mixed or unknown'),
});

const RawOcr = z.object({
  text_blocks: z.array(TextBlock),
  layout_description: z.string().describe('columns, borders and anything unusual about the layout'),
});

const PageInfoShape = z.object({
  page_number: z.string().nullable().describe('the page number printed on the page, as printed; null when none is visible'),
  is_complete_page: z.boolean(),
  content_type: z.string().describe('what the page is mainly about: courses, facilities, administration or other'),
});

const Textbook = z.object({
  title: z.string().nullable(),
  author: z.string().nullable(),
});

const Course = z.object({
  course_name: z.string().nullable().describe('the short name of the course'),
  department: z.string().nullable(),
  level: z.string().nullable().describe('class year or level: Freshman, Sophomore, Junior, Senior, Graduate, First Year…'),
  topics: z.array(z.string()).nullable(),
  textbooks: z.array(Textbook),
  term: z.string().nullable(),
  instructors: z.array(z.string()).nullable(),
  description: z.string().nullable().describe('notes on the course itself, never the name of the next course'),
});

export const PageOcr = z.object({
  raw_ocr: RawOcr,
  page_info: PageInfoShape,
  school_name: z.string().nullable(),
  catalog_year: z.string().nullable(),
  academic_year: z.string().nullable(),
  courses: z.array(Course),
});
export type PageOcr = z.infer<typeof PageOcr>;

/**
 * What the next page is told, in the original pipeline's words: the last 500 characters of this page's text
 * blocks (non-empty ones, joined by newlines) under `LAST_500_CHARS:`, a blank line, then `LAST_3_COURSES:`
 * with `n. name (department=…, level=…, term=…)` per course, `None` for a missing value, or `(none)`.
 */
export function pageContext(previous: PageOcr): string {
  const text = previous.raw_ocr.text_blocks.map((b) => b.text).filter((t) => t.length > 0).join('\n');
  // Characters as Python counts them: code points, not UTF-16 units.
  const chars = Array.from(text);
  const tail = chars.length <= 500 ? text : chars.slice(-500).join('');
  const lines: string[] = [];
  if (tail) lines.push('LAST_500_CHARS:', tail);
  lines.push('', 'LAST_3_COURSES:');
  const courses = previous.courses.slice(-3);
  if (courses.length === 0) lines.push('(none)');
  courses.forEach((c, i) => lines.push(`${i + 1}. ${py(c.course_name)} (department=${py(c.department)}, level=${py(c.level)}, term=${py(c.term)})`));
  return pythonStrip(lines.join('\n'));
}

/** A value as a Python f-string shows it: null is `None`. */
const py = (v: string | null): string => (v === null ? 'None' : v);

/** Python's str.strip(): the whitespace it removes differs from String.prototype.trim at a few code points. */
function pythonStrip(s: string): string {
  const space = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
  let start = 0, end = s.length;
  while (start < end && space.test(s[start]!)) start++;
  while (end > start && space.test(s[end - 1]!)) end--;
  return s.slice(start, end);
}

const LEVELS = ['Preparatory', 'Freshman', 'Sophomore', 'Junior', 'Senior', 'Graduate', 'Elective'];
const COURSE = new RegExp(`^([A-Z][^.]{1,80})\\. (${LEVELS.join('|')})(?: Class)?\\. (.*)$`);

/**
 * Maps tesseract's blocks onto the schema. The offline engine reads text only, so the course parsing
 * is a heuristic for the catalog layout `Name. Level Class. topics; topics. Text-book: T, by A. Term: …`.
 */
export function fromLocalOcr(ocr: LocalOcrResult, page: PageInfo): PageOcr {
  const paragraphs = ocr.blocks.flatMap((b) =>
    b.paragraphs.map((p) => ({ text: p.lines.map((l) => l.text.trim()).join(' ').replace(/\s+/g, ' ').trim(), bbox: p.bbox })),
  ).filter((p) => p.text.length > 0);

  const text_blocks = paragraphs.map((p, i) => ({
    block_id: i + 1,
    position: `${p.bbox.x0},${p.bbox.y0},${p.bbox.x1},${p.bbox.y1}`,
    text: p.text,
    font_style: 'unknown',
  }));

  let department: string | null = null;
  const courses: PageOcr['courses'] = [];
  let schoolName: string | null = null;
  let academicYear: string | null = null;
  for (const { text } of paragraphs) {
    const year = /(1[789]\d\d)\s*-\s*(\d{2,4})/.exec(text);
    if (year && academicYear === null) academicYear = `${year[1]}-${year[2]}`;
    const dept = /^DEPARTMENT OF ([A-Z ,&]+)\.?$/.exec(text);
    if (dept?.[1]) {
      department = titleCase(dept[1].trim());
      continue;
    }
    if (schoolName === null && /^[A-Z][A-Z .,'-]+(COLLEGE|UNIVERSITY|INSTITUTE|ACADEMY|SEMINARY)\.?$/.test(text)) {
      schoolName = titleCase(text.replace(/\.$/, ''));
      continue;
    }
    const course = COURSE.exec(text);
    if (course?.[1] && course[2] && course[3] !== undefined) courses.push(parseCourse(course[1], course[2], course[3], department));
  }

  return {
    raw_ocr: {
      text_blocks,
      layout_description: `${text_blocks.length} text blocks read by local OCR (tesseract.js, mean confidence ${Math.round(ocr.confidence)}).`,
    },
    page_info: {
      // Local OCR does not tell a printed page number from other figures: the page's place in the scan.
      page_number: String(page.pageNumber),
      is_complete_page: true,
      content_type: courses.length > 0 ? 'courses' : 'other',
    },
    school_name: schoolName ?? page.vars['school'] ?? null,
    catalog_year: page.vars['year'] ?? null,
    academic_year: academicYear,
    courses,
  };
}

function parseCourse(name: string, level: string, rest: string, department: string | null): PageOcr['courses'][number] {
  const field = (label: string): string | null => {
    const m = new RegExp(`${label}: ([^.]+(?:\\.[A-Z]\\.?[^.]*)*)\\.`).exec(rest);
    return m?.[1]?.trim() ?? null;
  };
  const textbooks = [...rest.matchAll(/Text-books?: ([^.]+?), by ([^.]+(?:\. ?[A-Z]\.)*[^.]*)\./g)].map((m) => ({
    title: (m[1] ?? '').trim() || null,
    author: (m[2] ?? '').trim() || null,
  }));
  const topicsText = rest.split(/ (?:Text-books?|Term|Instructors?):/)[0] ?? '';
  const instructors = field('Instructors?');
  return {
    course_name: name.trim(),
    department,
    level,
    topics: topicsText.split(';').map((t) => t.trim().replace(/\.$/, '')).filter(Boolean),
    textbooks,
    term: field('Term'),
    instructors: instructors ? instructors.split(/ and |, /).map((s) => s.trim()).filter(Boolean) : [],
    description: null,
  };
}

function titleCase(s: string): string {
  return s.toLowerCase().replace(/\b([a-z])/g, (c) => c.toUpperCase()).replace(/\b(Of|And|The)\b/g, (w) => w.toLowerCase());
}

export default defineRule<PageOcr>({
  name: 'page_ocr',
  version: 1,
  prompt: 'prompts/page_ocr/v1.ejs',
  schema: PageOcr,
  context: pageContext,
  // No model: ocrmake's default (gemini-3.8-flash; README "Models and prices"). Reading a printed page needs
  // little reasoning, and thinking tokens are billed as output: low instead of the model's default medium.
  thinking: { level: 'low' },
  generationConfig: { maxOutputTokens: 8192 },
  fromLocalOcr,
});
