/**
 * PDF text as a reader sees it, from pdf.js text positions: items become lines, lines are read
 * column by column, joined into paragraphs (hyphenation at line ends undone), running headers,
 * footers and page numbers are dropped, and navigation blocks (contents, index, references) and
 * captions are labeled. Pure: positions in, blocks out, so it is tested without a PDF.
 */

/** One pdf.js text item, in PDF user space (origin bottom left, y up). */
export interface PositionedText {
  str: string;
  x: number;
  /** Baseline. */
  y: number;
  width: number;
  /** Font size (the item's height). */
  size: number;
  monospace: boolean;
}

export interface PageText {
  width: number;
  height: number;
  items: PositionedText[];
}

export const BLOCK_KINDS = ['text', 'toc', 'index', 'references', 'caption'] as const;
export type BlockKind = (typeof BLOCK_KINDS)[number];

export interface LaidOutBlock {
  kind: BlockKind;
  /** Set when the block is a heading: 1 is outermost. */
  headingLevel?: number;
  /** The block's text split where pages change: page numbers are 1-based. */
  parts: { page: number; text: string }[];
}

interface Line {
  page: number;
  text: string;
  x0: number;
  x1: number;
  y: number;
  size: number;
  code: boolean;
  /** Index of the column the line was read in, or -1 for a line across the whole page. */
  column: number;
  /** Whitespace wider than four characters sits before a trailing page number (a contents line). */
  leaderBeforeNumber: boolean;
}

const PAGE_NUMBER = /^(page\s+)?([-–—]\s*)?(\d{1,4}|[ivxlc]{1,7})(\s*[-–—])?(\s*(of|\/)\s*\d{1,4})?$/i;
const DOT_LEADER = /(\.\s?){4,}\s*(\d{1,4}|[ivxlc]{1,7})$/i;
const LIST_MARKER = /^([•◦▪‣∙·*–—-]\s|\(?([a-z]|\d{1,2}|[ivx]{1,4})\)\s|\d{1,2}\.\s+[A-Z]|\[\d{1,3}\]\s?)/;
const CAPTION = /^(fig(ure)?|table|tab|listing|algorithm|chart|plate|exhibit)\.?\s*([\dIVX]+[a-z]?|[A-Z]\.\d+)\s*[.:|—–-]/i;
const REFERENCES_HEADING = /^((\d+|[IVX]+|[A-Z])\.?\s+)?(references|bibliography|works cited|literature cited|literature|reference list)\s*$/i;
const SECTION_NUMBER = /^(([IVX]+|\d+|[A-Z])(\.\d+)*)\.?\s+\S/;
const INDEX_ENTRY = /^[^.]{1,70}?[\s,]\d{1,4}(\s*[,–-]\s*\d{1,4})*\.?$/;
const TERMINAL = /[.!?:;"”’)]$/;

export function layOutPdf(pages: PageText[]): LaidOutBlock[] {
  const pageLines = pages.map((page, i) => readingOrder(page, i + 1));
  const bodySize = dominant(pageLines.flat().map((line) => [Math.round(line.size * 2) / 2, line.text.length]));
  const spacing = lineSpacing(pageLines, bodySize);
  removeRunningLines(pageLines, pages, spacing);
  const kinds = pageKinds(pageLines, pages.length);
  const blocks = paragraphs(pageLines, kinds, bodySize, spacing);
  labelReferences(blocks);
  return blocks;
}

// --- lines and columns -------------------------------------------------------------------------

interface Fragment {
  text: string;
  x0: number;
  x1: number;
  y: number;
  size: number;
  monoChars: number;
  chars: number;
  leaderBeforeNumber: boolean;
  pendingWideGap: boolean;
}

/** Items in stream order become fragments: runs on one baseline without a gap a reader would see. */
export function fragmentsOf(page: PageText): Fragment[] {
  const fragments: Fragment[] = [];
  let current: Fragment | undefined;
  for (const item of page.items) {
    const size = item.size > 0 ? item.size : current?.size ?? 10;
    if (item.str.length === 0) continue;
    const blank = item.str.trim().length === 0;
    const sameLine = current && Math.abs(item.y - current.y) < 0.4 * Math.max(size, current.size);
    if (current && sameLine && blank) {
      // A blank wider than four characters is a leader (contents) or a gutter: what follows decides.
      if (item.width > 4 * size) current.pendingWideGap = true;
      else {
        if (!current.text.endsWith(' ')) current.text += ' ';
        current.x1 = Math.max(current.x1, item.x + item.width);
      }
      continue;
    }
    const gap = current ? item.x - current.x1 : 0;
    const pageNumberAfterLeader = current?.pendingWideGap === true && /^\s*(\d{1,4}|[ivxlc]{1,7})\s*$/i.test(item.str);
    if (current && sameLine && !blank && gap > -0.6 * Math.max(size, current.size) && (pageNumberAfterLeader || (!current.pendingWideGap && gap < 2.5 * size))) {
      if ((gap > 0.15 * size || pageNumberAfterLeader) && !current.text.endsWith(' ')) current.text += ' ';
      current.text += item.str;
      if (pageNumberAfterLeader) current.leaderBeforeNumber = true;
      current.pendingWideGap = false;
      current.x1 = Math.max(current.x1, item.x + item.width);
      current.chars += item.str.length;
      if (item.monospace) current.monoChars += item.str.length;
      continue;
    }
    if (blank) continue;
    current = {
      text: item.str,
      x0: item.x,
      x1: item.x + item.width,
      y: item.y,
      size,
      monoChars: item.monospace ? item.str.length : 0,
      chars: item.str.length,
      leaderBeforeNumber: false,
      pendingWideGap: false,
    };
    fragments.push(current);
  }
  return fragments.filter((fragment) => fragment.text.trim().length > 0);
}

/**
 * A gutter: a vertical strip in the middle of the region that few fragments cross, with enough
 * text on both sides that reads as columns (prose wide enough, or index entries). Tables with
 * narrow cells do not qualify, so they keep their rows.
 */
export function findGutter(fragments: Fragment[], from: number, to: number): number | undefined {
  if (fragments.length < 12) return undefined;
  const width = to - from;
  let best: { x: number; crossing: number } | undefined;
  for (let x = Math.round(from + width * 0.3); x <= Math.round(from + width * 0.7); x += 2) {
    const crossing = fragments.filter((f) => f.x0 < x - 1 && f.x1 > x + 1).length;
    if (!best || crossing < best.crossing || (crossing === best.crossing && Math.abs(x - from - width / 2) < Math.abs(best.x - from - width / 2))) best = { x, crossing };
  }
  if (!best || best.crossing > Math.max(2, fragments.length * 0.15)) return undefined;
  const left = fragments.filter((f) => f.x1 <= best.x + 1);
  const right = fragments.filter((f) => f.x0 >= best.x - 1);
  if (Math.min(left.length, right.length) < Math.max(4, fragments.length * 0.1)) return undefined;
  const wide = (side: Fragment[]) => median(side.map((f) => f.x1 - f.x0)) >= width * 0.22;
  // Justified prose in a left column ends near the gutter; a ragged table column does not.
  const nearGutter = left.filter((f) => best.x - f.x1 < width * 0.08).length >= left.length * 0.3;
  // Index pages set short entries in columns.
  const entries = (side: Fragment[]) => side.filter((f) => looseIndexEntry(f.text.trim())).length >= side.length * 0.6 && median(side.map((f) => f.x1 - f.x0)) < width * 0.45;
  const prose = wide(left) && wide(right) && nearGutter;
  // Nothing crosses: columns, one of them set as prose (the other may hold a table or a list).
  const clear = best.crossing <= 1 && (wide(left) || wide(right)) && Math.min(left.length, right.length) >= fragments.length * 0.2;
  return prose || clear || (entries(left) && entries(right)) ? best.x : undefined;
}

/** An index line, loosely: ends in page numbers, has leader dots, or is a letter heading. */
function looseIndexEntry(text: string): boolean {
  return INDEX_ENTRY.test(text) || /\d{1,4}(\s*[–-]\s*\d{1,4})?\s*$/.test(text) || /(\.\s?){3,}/.test(text) || /^\p{Lu}$/u.test(text);
}

/** Column boundaries of a page, left to right: gutters found in the page, then in each side. */
function gutters(fragments: Fragment[], from: number, to: number, depth = 0): number[] {
  const gutter = depth < 2 ? findGutter(fragments, from, to) : undefined;
  if (gutter === undefined) return [];
  const left = fragments.filter((f) => f.x1 <= gutter + 1);
  const right = fragments.filter((f) => f.x0 >= gutter - 1);
  return [...gutters(left, from, gutter, depth + 1), gutter, ...gutters(right, gutter, to, depth + 1)];
}

/** The page's lines in reading order: columns left to right inside bands cut by lines across them. */
function readingOrder(page: PageText, pageNumber: number): Line[] {
  const fragments = fragmentsOf(page);
  const bounds = gutters(fragments, 0, page.width);
  const columnOf = (f: Fragment) => {
    if (bounds.some((g) => f.x0 < g - 1 && f.x1 > g + 1)) return -1;
    return bounds.filter((g) => f.x0 >= g - 1).length;
  };
  const lines = mergeLines(fragments, columnOf, pageNumber);
  if (bounds.length === 0) return lines;
  const ordered: Line[] = [];
  let band: Line[] = [];
  const flush = () => {
    for (let column = 0; column <= bounds.length; column++) ordered.push(...band.filter((l) => l.column === column));
    band = [];
  };
  for (const line of lines) {
    if (line.column === -1) {
      flush();
      ordered.push(line);
    } else band.push(line);
  }
  flush();
  return ordered;
}

/** Fragments on one baseline in one column are one line; lines top to bottom, then left to right. */
function mergeLines(fragments: Fragment[], columnOf: (f: Fragment) => number, page: number): Line[] {
  const sorted = [...fragments].sort((a, b) => b.y - a.y || a.x0 - b.x0);
  const lines: (Line & { parts: Fragment[] })[] = [];
  for (const fragment of sorted) {
    const column = columnOf(fragment);
    const line = lines.find(
      (l) => l.column === column && Math.abs(l.y - fragment.y) < 0.45 * Math.min(l.size, fragment.size) && !l.parts.some((p) => overlaps(p, fragment)),
    );
    if (line) {
      line.parts.push(fragment);
      line.x0 = Math.min(line.x0, fragment.x0);
      line.x1 = Math.max(line.x1, fragment.x1);
    } else {
      lines.push({ page, text: '', x0: fragment.x0, x1: fragment.x1, y: fragment.y, size: fragment.size, code: false, column, leaderBeforeNumber: false, parts: [fragment] });
    }
  }
  return lines.map(({ parts, ...line }) => {
    parts.sort((a, b) => a.x0 - b.x0);
    let text = '';
    for (const [i, part] of parts.entries()) {
      const previous = parts[i - 1];
      if (previous && part.x0 - previous.x1 > 0.15 * part.size && !text.endsWith(' ')) text += ' ';
      text += part.text;
    }
    const chars = parts.reduce((sum, p) => sum + p.chars, 0);
    const mono = parts.reduce((sum, p) => sum + p.monoChars, 0);
    // The size most of the line is set in: a raised letter or a symbol does not make a heading.
    const size = dominant(parts.map((p) => [Math.round(p.size * 2) / 2, p.chars]));
    return { ...line, size, text: text.replace(/\s+/g, ' ').trim(), code: mono >= 0.7 * chars, leaderBeforeNumber: parts.some((p) => p.leaderBeforeNumber) };
  });
}

/** Kerned letters (the A of LaTeX) may overlap a little; whole words do not. */
function overlaps(a: Fragment, b: Fragment): boolean {
  const slack = 0.6 * Math.max(a.size, b.size);
  return a.x0 < b.x1 - slack && b.x0 < a.x1 - slack;
}

// --- document-wide clean-up ----------------------------------------------------------------------

/** The usual distance between baselines of body text. */
function lineSpacing(pageLines: Line[][], bodySize: number): number {
  const deltas: number[] = [];
  for (const lines of pageLines) {
    for (let i = 1; i < lines.length; i++) {
      const [a, b] = [lines[i - 1] as Line, lines[i] as Line];
      if (a.column === b.column && Math.abs(a.size - bodySize) < 0.6 && Math.abs(b.size - bodySize) < 0.6 && a.y > b.y) deltas.push(a.y - b.y);
    }
  }
  const value = deltas.length > 0 ? dominant(deltas.map((d) => [Math.round(d * 2) / 2, 1])) : bodySize * 1.2;
  return Math.max(value, bodySize);
}

/**
 * Running headers, footers and page numbers: a line at the top or bottom of its page, set apart
 * from the body, whose text (digits aside) recurs on several pages, or which is only a number.
 */
function removeRunningLines(pageLines: Line[][], pages: PageText[], spacing: number): void {
  const signature = (line: Line) => line.text.toLowerCase().replace(/\d+/g, '#').replace(/\s+/g, ' ');
  const edgeLines = (lines: Line[], page: PageText) => {
    const byHeight = [...lines].sort((a, b) => b.y - a.y);
    const edges = new Set<Line>();
    for (const [ends, step] of [[byHeight, 1], [[...byHeight].reverse(), -1]] as const) {
      for (let i = 0; i < Math.min(2, ends.length); i++) {
        const line = ends[i] as Line;
        const next = ends[i + 1];
        const apart = !next || Math.abs(line.y - next.y) >= 1.6 * spacing;
        const outer = step === 1 ? line.y > page.height * 0.93 : line.y < page.height * 0.07;
        if (!apart && !outer) break;
        edges.add(line);
      }
    }
    return edges;
  };
  const edges = pageLines.map((lines, i) => edgeLines(lines, pages[i] as PageText));
  const counts = new Map<string, number>();
  for (const set of edges) for (const key of new Set([...set].map(signature))) counts.set(key, (counts.get(key) ?? 0) + 1);
  const repeats = Math.max(2, Math.min(3, pages.length));
  pageLines.forEach((lines, i) => {
    const set = edges[i] as Set<Line>;
    const keep = lines.filter((line) => !(set.has(line) && (PAGE_NUMBER.test(line.text) || (counts.get(signature(line)) ?? 0) >= repeats)));
    lines.splice(0, lines.length, ...keep);
  });
}

/** Pages that are a table of contents or an index, judged by their lines. */
function pageKinds(pageLines: Line[][], pageCount: number): (BlockKind | undefined)[] {
  return pageLines.map((lines, i) => {
    if (lines.length < 5) return undefined;
    const first = lines.slice(0, 3).map((l) => l.text.toLowerCase());
    const late = i >= pageCount * 0.5;
    const indexTitle = first.some((t) => /^(index|general index)$/.test(t));
    const tocLines = lines.filter((l) => DOT_LEADER.test(l.text) || l.leaderBeforeNumber).length;
    const entries = lines.filter((l) => (late || indexTitle ? looseIndexEntry(l.text) : INDEX_ENTRY.test(l.text)) && l.text.length < 60).length;
    if ((late || indexTitle) && (tocLines >= Math.max(4, lines.length * 0.4) || entries >= lines.length * (indexTitle ? 0.3 : 0.5))) return 'index';
    if (tocLines >= Math.max(4, lines.length * 0.4) || (first.some((t) => /^(table of )?contents$/.test(t)) && tocLines >= 3)) return 'toc';
    return undefined;
  });
}

// --- paragraphs ------------------------------------------------------------------------------

interface Building extends LaidOutBlock {
  last: Line;
  lines: number;
}

function paragraphs(pageLines: Line[][], kinds: (BlockKind | undefined)[], bodySize: number, spacing: number): LaidOutBlock[] {
  const blocks: Building[] = [];
  const edges = columnEdges(pageLines);
  let current: Building | undefined;
  // After a "Contents" title, lines ending in a page number (or wrapped before one) are its entries.
  let contentsRun = false;
  const entry = (l: Line | undefined) => l !== undefined && /\s(\d{1,4}|[ivxlc]{1,7})$/i.test(l.text);
  for (const [p, lines] of pageLines.entries()) {
    // On a contents page, the entries run from the first line ending in a page number to the last.
    const first = kinds[p] === 'toc' ? lines.findIndex(entry) : -1;
    const last = kinds[p] === 'toc' ? lines.findLastIndex(entry) : -1;
    for (const [i, line] of lines.entries()) {
      contentsRun &&= entry(line) || entry(lines[i + 1]);
      const pageKind = kinds[p] === 'toc' ? (i >= first && i <= last ? 'toc' : undefined) : kinds[p];
      const kind = pageKind ?? (contentsRun ? 'toc' : undefined);
      const edge = edges.get(`${line.page}:${line.column}`) ?? { left: line.x0, right: line.x1 };
      const keepLines = kind !== undefined || line.code;
      const joins = current && (kind !== undefined ? current.kind === kind : current.kind === 'text' && continues(current, line, edge, bodySize, spacing));
      if (current && joins) append(current, line, keepLines);
      else {
        current = { kind: kind ?? 'text', parts: [{ page: line.page, text: line.text }], last: line, lines: 1 };
        blocks.push(current);
      }
      if (/^(table of )?contents$/i.test(line.text)) contentsRun = true;
    }
  }
  return blocks.map(({ kind, parts, last, lines }) => {
    const text = parts.map((part) => part.text).join('');
    const block: LaidOutBlock = { kind: kind === 'text' && CAPTION.test(text) ? 'caption' : kind, parts };
    const level = lines === 1 && kind === 'text' ? headingLevel(text, last, bodySize) : undefined;
    if (level !== undefined) block.headingLevel = level;
    return block;
  });
}

/** Whether a line goes on the paragraph being built (body text; contents and index pages keep their lines). */
function continues(block: Building, line: Line, edge: { left: number; right: number }, bodySize: number, spacing: number): boolean {
  const previous = block.last;
  if (previous.code !== line.code) return false;
  if (Math.abs(previous.size - line.size) > 0.9) return false;
  if (LIST_MARKER.test(line.text) || CAPTION.test(line.text)) return false;
  if (headingLevel(block.parts.map((p) => p.text).join(''), previous, bodySize) !== undefined && block.lines === 1 && !line.code) return false;
  const sameColumn = previous.page === line.page && previous.column === line.column;
  const indented = line.x0 > edge.left + 0.8 * line.size;
  const previousShort = previous.x1 < edge.right - 2.5 * line.size;
  if (sameColumn) {
    const gap = previous.y - line.y;
    if (gap <= 0 || gap > 1.45 * spacing) return false;
    if (line.code) return true;
    if (indented && !(previous.x0 > edge.left + 0.8 * line.size)) return false;
    if (previousShort && TERMINAL.test(previous.text)) return false;
    return true;
  }
  // A column or page change: the paragraph goes on only where its sentence plainly does.
  if (line.code || indented || previousShort) return false;
  return !TERMINAL.test(previous.text) || /^[a-z]/.test(line.text);
}

function append(block: Building, line: Line, keepLines: boolean): void {
  const last = block.parts.at(-1) as { page: number; text: string };
  let joiner = keepLines ? '\n' : ' ';
  if (!keepLines && /\p{L}-$/u.test(last.text) && /^\p{Ll}/u.test(line.text)) {
    last.text = last.text.slice(0, -1);
    joiner = '';
  }
  if (line.page === last.page) last.text += joiner + line.text;
  else {
    last.text += joiner;
    block.parts.push({ page: line.page, text: line.text });
  }
  block.last = line;
  block.lines++;
}

/** A short line on its own, larger than the body or numbered like a section, is a heading. */
function headingLevel(text: string, line: Line, bodySize: number): number | undefined {
  if (text.length > 90 || text.split(/\s+/).length > 12 || /[.,;]$/.test(text) || !/\p{L}{2}/u.test(text) || line.code) return undefined;
  // A heading does not stop on a word that needs another after it.
  if (/\s(a|an|the|of|and|or|as|to|in|on|for|with|by|is|are|be|that|from)$/i.test(text)) return undefined;
  if (LIST_MARKER.test(text) || CAPTION.test(text)) return undefined;
  const numbered = SECTION_NUMBER.exec(text);
  if (line.size > bodySize + 0.5) return line.size >= bodySize * 1.4 ? 1 : line.size >= bodySize * 1.15 ? 2 : 3;
  if (numbered && /^[A-Z\d]/.test(text) && !/\d$/.test(text)) return Math.min(4, (numbered[1] as string).split('.').length + 1);
  return undefined;
}

/**
 * References: the entries after a "References" heading (numbered, or short with a year), up to the
 * next heading of its rank or the first paragraph that is prose; and runs of numbered entries.
 */
function labelReferences(blocks: LaidOutBlock[]): void {
  let inReferences = false;
  let headingRank: number | undefined;
  for (const block of blocks) {
    const text = block.parts.map((p) => p.text).join('');
    if (REFERENCES_HEADING.test(text)) {
      inReferences = true;
      headingRank = block.headingLevel;
      block.kind = 'references';
      continue;
    }
    if (block.headingLevel !== undefined && (headingRank === undefined || block.headingLevel <= headingRank)) inReferences = false;
    const entryLike = /^(\[\d{1,3}\]|\d{1,3}\.\s)/.test(text) || (/\b(1[89]|20)\d\d[a-z]?\b/.test(text) && text.length < 600);
    if (inReferences && !entryLike && text.length > 200) inReferences = false;
    if (inReferences && block.kind === 'text') block.kind = 'references';
  }
  for (let i = 0; i < blocks.length; i++) {
    let end = i;
    const entry = (block: LaidOutBlock) => {
      const text = block.parts.map((p) => p.text).join('');
      return /^\[\d{1,3}\]\s?\S/.test(text) && text.length >= 25 && /\p{L}{3}/u.test(text);
    };
    while (end < blocks.length && entry(blocks[end] as LaidOutBlock)) end++;
    if (end - i >= 3) for (let j = i; j < end; j++) if ((blocks[j] as LaidOutBlock).kind === 'text') (blocks[j] as LaidOutBlock).kind = 'references';
    i = Math.max(i, end - 1);
  }
}

/** Left and right edges of each column on each page: where its lines mostly start and end. */
function columnEdges(pageLines: Line[][]): Map<string, { left: number; right: number }> {
  const edges = new Map<string, { left: number; right: number }>();
  for (const lines of pageLines) {
    const byColumn = new Map<number, Line[]>();
    for (const line of lines) byColumn.set(line.column, [...(byColumn.get(line.column) ?? []), line]);
    for (const [column, members] of byColumn) {
      const page = (members[0] as Line).page;
      edges.set(`${page}:${column}`, { left: dominant(members.map((l) => [Math.round(l.x0), 1])), right: percentile(members.map((l) => l.x1), 0.9) });
    }
  }
  return edges;
}

// --- small statistics --------------------------------------------------------------------------

/** The value with the largest total weight. */
function dominant(weighted: [number, number][]): number {
  const totals = new Map<number, number>();
  for (const [value, weight] of weighted) totals.set(value, (totals.get(value) ?? 0) + weight);
  let best = 0;
  let bestWeight = -1;
  for (const [value, weight] of totals) if (weight > bestWeight) [best, bestWeight] = [value, weight];
  return best;
}

function median(values: number[]): number {
  return percentile(values, 0.5);
}

function percentile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}
