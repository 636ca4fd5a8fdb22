import type { PiiEntity } from '../gateway/tenant-settings';

/**
 * Finds and masks personal data. Where a format has a checksum (card numbers: Luhn; IBAN:
 * mod 97; Spanish DNI: mod 23) only valid numbers count, which keeps order numbers and the like
 * unmasked. Overlaps go to the earlier, then longer match.
 */
interface Detector {
  entity: PiiEntity;
  pattern: RegExp;
  valid?: (match: string) => boolean;
}

const DETECTORS: Detector[] = [
  { entity: 'email', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  { entity: 'iban', pattern: /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g, valid: validIban },
  { entity: 'credit_card', pattern: /\b\d(?:[ -]?\d){12,18}\b/g, valid: (m) => luhn(m.replace(/\D/g, '')) },
  // US SSN (no 000, 666 or 9xx area), UK National Insurance number, Spanish DNI with its letter.
  { entity: 'national_id', pattern: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g },
  { entity: 'national_id', pattern: /\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g },
  { entity: 'national_id', pattern: /\b\d{8}-?[A-HJ-NP-TV-Z]\b/g, valid: validDni },
  // International (+…), a bracketed area code, or North American 3-3-4 groups; 7 to 15 digits.
  { entity: 'phone', pattern: /(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}|\b\d{3}[.-]\d{3}[.-]\d{4})\b/g, valid: (m) => digitCount(m, 7, 15) },
];

const LABELS: Record<PiiEntity, string> = { email: '[EMAIL]', phone: '[PHONE]', credit_card: '[CREDIT_CARD]', iban: '[IBAN]', national_id: '[NATIONAL_ID]' };

export interface MaskResult {
  text: string;
  /** How many of each entity were masked: recorded instead of the values. */
  counts: Partial<Record<PiiEntity, number>>;
}

export function maskPii(text: string, entities: readonly PiiEntity[]): MaskResult {
  const found: { start: number; end: number; entity: PiiEntity }[] = [];
  for (const detector of DETECTORS) {
    if (!entities.includes(detector.entity)) continue;
    for (const match of text.matchAll(detector.pattern)) {
      if (detector.valid && !detector.valid(match[0])) continue;
      found.push({ start: match.index, end: match.index + match[0].length, entity: detector.entity });
    }
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const counts: MaskResult['counts'] = {};
  let masked = '';
  let position = 0;
  for (const hit of found) {
    if (hit.start < position) continue; // inside an earlier match
    masked += text.slice(position, hit.start) + LABELS[hit.entity];
    counts[hit.entity] = (counts[hit.entity] ?? 0) + 1;
    position = hit.end;
  }
  return { text: masked + text.slice(position), counts };
}

export function luhn(digits: string): boolean {
  if (digits.length < 13 || digits.length > 19 || /^0+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** ISO 13616: move the first four characters to the end, letters to numbers, remainder mod 97 is 1. */
export function validIban(candidate: string): boolean {
  const iban = candidate.replace(/ /g, '');
  if (iban.length < 15 || iban.length > 34) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const value = char >= 'A' && char <= 'Z' ? String(char.charCodeAt(0) - 55) : char;
    for (const digit of value) remainder = (remainder * 10 + Number(digit)) % 97;
  }
  return remainder === 1;
}

function validDni(candidate: string): boolean {
  const digits = Number(candidate.slice(0, 8));
  return 'TRWAGMYFPDXBNJZSQVHLCKE'[digits % 23] === candidate.at(-1);
}

function digitCount(text: string, min: number, max: number): boolean {
  const n = text.replace(/\D/g, '').length;
  return n >= min && n <= max;
}
