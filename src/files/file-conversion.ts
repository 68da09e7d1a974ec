import { fileTypeFromBuffer } from 'file-type';
import iconv from 'iconv-lite';

/** The kinds of file whose text can be retained. */
export const FILE_KINDS = ['text', 'html', 'pdf', 'docx'] as const;
export type FileKind = (typeof FILE_KINDS)[number];

/** Why a file was refused; the HTTP layer picks the status from it. */
export type FileRejectionReason = 'too_large' | 'unsupported' | 'encrypted' | 'corrupt' | 'empty' | 'timeout';

export type FileConversion = { ok: true; kind: FileKind; text: string } | { ok: false; reason: FileRejectionReason; message: string };

const DOCX_MIME = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/**
 * Formats written in text whose text is not what the document says (markup, a page description,
 * ciphertext): refused as the sniffer names them, though their bytes are UTF-8.
 */
const ENCODED_AS_TEXT = new Set(['application/rtf', 'application/postscript', 'application/pgp-encrypted']);

/**
 * Sniffs a file's type from its bytes and converts it to text. The name a client gives a file is
 * never consulted: a `.pdf` that holds plain text is text, and a `.txt` that holds a PDF is a PDF.
 * Runs inside the parser worker (`file-parser.worker.ts`), so a slow or hostile file blocks no
 * request but its own.
 */
export async function convertFile(bytes: Uint8Array): Promise<FileConversion> {
  if (bytes.length === 0) return refuse('empty', 'the file is empty');
  // Before the sniffer, which reads a UTF-16 byte-order mark and the text after it as the frame
  // header of MPEG audio and refused Notepad's "Unicode" and Windows PowerShell's default output.
  const utf16 = decodeUtf16(bytes);
  if (utf16 !== null) return looksLikeHtml(utf16) ? convertHtml(utf16) : withText('text', utf16);
  const sniffed = await fileTypeFromBuffer(bytes);
  if (sniffed?.mime === 'application/pdf') return convertPdf(bytes);
  if (sniffed?.mime === DOCX_MIME) return convertDocx(bytes);
  // A DOCX too damaged for the sniffer to see past its first entries still names its parts.
  if (sniffed?.mime === 'application/zip' && containsAscii(bytes, 'word/')) return convertDocx(bytes);
  if (sniffed?.mime === 'application/x-cfb') {
    // Word and Excel keep a password-protected OOXML file inside an OLE container, as they keep
    // the legacy .doc and .xls formats: neither can be read here.
    return refuse('unsupported', 'it is an OLE compound file (a password-protected Office document, or a legacy .doc/.xls): not supported');
  }
  const text = sniffed && ENCODED_AS_TEXT.has(sniffed.mime) ? null : decodeText(bytes, { legacy: !sniffed });
  // The sniffer matches a few bytes at the start, and some of its signatures are words: a note
  // that opens with "BMW" or "BM" is a bitmap to it, "MZ" a Windows program, "FORM" AIFF audio.
  // Real files of those kinds hold NUL bytes or invalid UTF-8 past their signature; clean UTF-8
  // throughout is text.
  if (sniffed && text === null) return refuse('unsupported', `its content is ${sniffed.mime} (.${sniffed.ext}), which is not supported`);
  if (text === null) return refuse('unsupported', 'its content is binary data of no supported type');
  if (looksLikeHtml(text)) return convertHtml(text);
  return withText('text', text);
}

function refuse(reason: FileRejectionReason, message: string): FileConversion {
  return { ok: false, reason, message };
}

function withText(kind: FileKind, text: string): FileConversion {
  const trimmed = text.replace(/\r\n?/g, '\n').trim();
  if (!trimmed)
    return refuse('empty', kind === 'pdf' ? 'it has no text layer (scanned pages are not read: there is no OCR)' : 'it holds no text');
  return { ok: true, kind, text: trimmed };
}

function containsAscii(bytes: Uint8Array, text: string): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(text, 0, 'latin1');
}

/**
 * UTF-8 without NUL bytes (a leading byte-order mark dropped); with `legacy`, bytes that are not
 * UTF-8 but hold no control character text never has are read as Windows-1252 (the superset of
 * Latin-1 that Windows editors wrote, as `file` calls them "ISO-8859 text"). Anything else is binary.
 */
function decodeText(bytes: Uint8Array, { legacy }: { legacy: boolean }): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    if (!legacy || bytes.some(isBinaryControl)) return null;
    // iconv-lite, not TextDecoder: Node 20's 'windows-1252' decoder reads 0x80-0x9f as Latin-1's
    // control characters, losing the curly quotes, dashes and euro sign Windows put there.
    return iconv.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), 'windows-1252');
  }
}

/** Control bytes other than tab, line feed, form feed, carriage return and escape. */
function isBinaryControl(byte: number): boolean {
  return (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d && byte !== 0x1b) || byte === 0x7f;
}

/** Text that opens with a UTF-16 byte-order mark, without NUL characters or unpaired surrogates; else `null`. */
function decodeUtf16(bytes: Uint8Array): string | null {
  const encoding = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : null;
  if (encoding === null || bytes.length % 2 !== 0) return null;
  try {
    const text = new TextDecoder(encoding, { fatal: true }).decode(bytes);
    // UTF-32 opens with the same two bytes, and reads as UTF-16 with a NUL every other character.
    return text.includes('\u0000') ? null : text;
  } catch {
    return null;
  }
}

/**
 * The WHATWG MIME sniffing rule for HTML: the first non-blank characters open one of the tags
 * that only HTML starts with. A Markdown file that quotes a tag further down stays Markdown.
 */
function looksLikeHtml(text: string): boolean {
  return /^\s*<(!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[\s>]/i.test(text.slice(0, 512));
}

async function convertHtml(html: string): Promise<FileConversion> {
  const { convert } = await import('html-to-text');
  const text = convert(html, {
    wordwrap: false,
    selectors: [
      // Link targets and images are markup, not what the page says.
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
      // Kept as written: the words are what recall matches, not their case.
      ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
    ],
  });
  return withText('html', text);
}

async function convertPdf(bytes: Uint8Array): Promise<FileConversion> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  let document: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js takes ownership of the buffer it is given; a copy keeps the caller's intact.
    document = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0 });
  } catch (error) {
    if (errorName(error) === 'PasswordException') return refuse('encrypted', 'it is an encrypted PDF that needs a password');
    return refuse('corrupt', `it is not a readable PDF (${errorMessage(error)})`);
  }
  try {
    const { text } = await extractText(document, { mergePages: false });
    return withText('pdf', text.map((page) => page.trim()).join('\n\n'));
  } catch (error) {
    return refuse('corrupt', `its pages could not be read (${errorMessage(error)})`);
  } finally {
    await document.destroy().catch(() => undefined);
  }
}

async function convertDocx(bytes: Uint8Array): Promise<FileConversion> {
  const mammoth = (await import('mammoth')).default;
  try {
    const { value } = await mammoth.extractRawText({ buffer: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) });
    return withText('docx', value);
  } catch (error) {
    return refuse('corrupt', `it is not a readable DOCX file (${errorMessage(error)})`);
  }
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error || (typeof error === 'object' && error !== null) ? (error as { name?: string }).name : undefined;
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
