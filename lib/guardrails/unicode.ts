/**
 * Unicode tricks that hide or disguise text: invisible and bidirectional control characters,
 * "tag" characters that smuggle invisible ASCII, and look-alike letters from other scripts.
 */

/** Zero-width, joiners, soft hyphen, bidi embeddings/overrides/isolates, word joiners, BOM, variation selectors. */
const INVISIBLE = /[\u00AD\u034F\u061C\u115F\u1160\u17B4\u17B5\u180B-\u180F\u200B-\u200F\u202A-\u202E\u2060-\u206F\u3164\uFE00-\uFE0F\uFEFF\uFFA0]/g;
/** U+E0000–U+E007F: invisible copies of ASCII, a known channel for hidden instructions. */
const TAGS = /[\u{E0000}-\u{E007F}]+/gu;
/** C0/C1 controls other than tab, newline and carriage return. */
const CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g;

/** Cyrillic and Greek letters that look like Latin ones. */
const CONFUSABLES: Record<string, string> = {
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x', і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w', һ: 'h',
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x', ω: 'w',
};
const CONFUSABLE = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'g');

export interface CleanedText {
  text: string;
  /** Characters removed because they hide or reorder text. */
  removed: number;
}

/** What is passed on: the same text without invisible, bidi, tag and control characters (NFC). */
export function cleanText(text: string): CleanedText {
  const cleaned = text.normalize('NFC').replace(TAGS, '').replace(INVISIBLE, '').replace(CONTROLS, '');
  return { text: cleaned, removed: [...text.normalize('NFC')].length - [...cleaned].length };
}

/**
 * What detectors read: compatibility forms folded (full-width, ligatures, math letters),
 * hidden tag text revealed, look-alikes mapped to Latin, letters spaced apart joined, lowercase.
 */
export function foldForDetection(text: string): string {
  const revealed = text.replace(TAGS, (run) => {
    const ascii = [...run].map((tag) => (tag.codePointAt(0) as number) - 0xe0000).filter((code) => code >= 0x20 && code < 0x7f);
    return ` ${String.fromCharCode(...ascii)} `;
  });
  return revealed
    .normalize('NFKC')
    .replace(INVISIBLE, '')
    .replace(CONTROLS, ' ')
    .toLowerCase()
    .replace(CONFUSABLE, (c) => CONFUSABLES[c] ?? c)
    .replace(/\b(?:[a-z][ ._-]){3,}[a-z]\b/g, (spaced) => spaced.replace(/[ ._-]/g, ''))
    .replace(/\s+/g, ' ');
}
