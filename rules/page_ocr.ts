// The page rule of the course-catalog collection: one scanned catalog page in, its OCR text and the
// courses it lists out. The schema is the one the original pipeline used, so outputs stay compatible.
import { defineRule, z } from 'ocrmake';
import type { LocalOcrResult, PageInfo } from 'ocrmake';

const TextBlock = z.object({
  block_id: z.number().int().describe('1-based reading order of the block on the page'),
  position: z.string().describe('where the block sits: header, body, footer, margin, or x0,y0,x1,y1'),
  text: z.string(),
  font_style: z.string().describe('regular, italic, bold, small-caps, mixed or unknown'),
});

const Textbook = z.object({
  title: z.string(),
  author: z.string().nullable(),
});

const Course = z.object({
  course_name: z.string(),
  department: z.string().nullable(),
  level: z.string().nullable().describe('class year or level: Freshman, Sophomore, Junior, Senior, Preparatory…'),
  topics: z.array(z.string()),
  textbooks: z.array(Textbook),
  term: z.string().nullable(),
  instructors: z.array(z.string()),
  description: z.string().nullable(),
});

export const PageOcr = z.object({
  raw_ocr: z.object({
    text_blocks: z.array(TextBlock),
    layout_description: z.string(),
  }),
  page_info: z.object({
    page_number: z.number().int().nullable(),
    is_complete_page: z.boolean(),
    content_type: z.enum(['title_page', 'course_listing', 'faculty_listing', 'calendar', 'mixed', 'other']),
  }),
  school_name: z.string().nullable(),
  catalog_year: z.string().nullable(),
  academic_year: z.string().nullable(),
  courses: z.array(Course),
});
export type PageOcr = z.infer<typeof PageOcr>;

/** What the next page is told: the end of this page's text and its last three courses. */
export function pageContext(previous: PageOcr): string {
  const text = previous.raw_ocr.text_blocks.map((b) => b.text).join('\n');
  const tail = text.slice(-500);
  const courses = previous.courses.slice(-3).map((c) => ({
    course_name: c.course_name,
    department: c.department,
    level: c.level,
  }));
  return [
    `Previous page number: ${previous.page_info.page_number ?? 'unknown'}`,
    `School: ${previous.school_name ?? 'unknown'}; academic year: ${previous.academic_year ?? 'unknown'}`,
    `Last 500 characters of the previous page:\n${tail}`,
    `Last courses of the previous page: ${JSON.stringify(courses)}`,
  ].join('\n');
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
      page_number: page.pageNumber,
      is_complete_page: true,
      content_type: courses.length > 0 ? 'course_listing' : 'other',
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
    title: (m[1] ?? '').trim(),
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
