import { readFileSync } from 'node:fs';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import type { TStatementIssuer, TStatementUsageLine } from '@/lib/shared/schemas/statements';
import type { TStatementFigures } from './statement-figures';

/** What the PDF shows: the figures, who issues it (the parent's brand) and to whom. */
export interface TStatementDocument {
  number: number;
  period: string;
  periodStart: Date;
  periodEnd: Date;
  issuedAt: Date;
  account: { id: string; name: string };
  issuer: TStatementIssuer;
  figures: TStatementFigures;
}

const PAGE = { width: 595.28, height: 841.89, margin: 50 };
const RIGHT = PAGE.width - PAGE.margin;
const INK = '#0f172a';
const MUTED = '#475569';
const DEFAULT_PRIMARY = '#1e293b';

const KIND_LABEL: Record<string, string> = {
  payment: 'Payment',
  credit_note: 'Credit note',
  adjustment: 'Adjustment',
};

/**
 * An exact decimal string as the PDF prints it: the ledger's own digits, trailing zeros
 * trimmed to two decimals (never through a float, so 0.000123 stays 0.000123).
 */
export function pdfAmount(amount: string): string {
  const [whole, fraction = ''] = amount.split('.');
  const kept = fraction.replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${kept}`;
}

/**
 * The fonts a statement is set in: Liberation Sans (assets/fonts, with its licence),
 * Helvetica's metrics — the layout is as with PDF's standard Helvetica — and its glyphs
 * beyond Latin-1: a brand, an account or a destination named "Hotel Łódź" or "Телеком"
 * printed as such, where the standard fonts (Windows-1252 only) printed "Hotel 6Az" on a
 * document that is final. Embedded as subsets (pdfkit). Read once.
 */
const REGULAR = 'Sans';
const BOLD = 'Sans-Bold';
let fonts: { regular: Buffer; bold: Buffer } | undefined;
function statementFonts() {
  const dir = path.join(process.cwd(), 'assets', 'fonts');
  fonts ??= {
    regular: readFileSync(path.join(dir, 'LiberationSans-Regular.ttf')),
    bold: readFileSync(path.join(dir, 'LiberationSans-Bold.ttf')),
  };
  return fonts;
}

/**
 * The statement as a PDF (pdfkit, Liberation Sans embedded), in the issuer's name and
 * colours. Returns the file's bytes, stored with the statement.
 */
export function renderStatementPdf(doc: TStatementDocument): Promise<Buffer> {
  const pdf = new PDFDocument({
    size: 'A4',
    margin: PAGE.margin,
    info: {
      Title: `Statement ${doc.number} — ${doc.account.name} — ${doc.period}`,
      Author: doc.issuer.name,
      Subject: `Statement for ${doc.period}`,
    },
  });
  const { regular, bold } = statementFonts();
  pdf.registerFont(REGULAR, regular);
  pdf.registerFont(BOLD, bold);
  pdf.font(REGULAR);
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);
  });
  header(pdf, doc);
  let y = summary(pdf, doc, 200);
  y = usageTable(pdf, doc.figures.currency, doc.figures.usage, y + 24);
  y = movementsTable(pdf, doc.figures, y + 24);
  footer(pdf, doc, y + 24);
  pdf.end();
  return done;
}

function header(pdf: PDFKit.PDFDocument, doc: TStatementDocument): void {
  const primary = doc.issuer.primaryColor ?? DEFAULT_PRIMARY;
  pdf.rect(0, 0, PAGE.width, 110).fill(primary);
  pdf.fillColor('#ffffff').font(BOLD).fontSize(22);
  pdf.text(doc.issuer.name, PAGE.margin, 34, { width: RIGHT - PAGE.margin, lineBreak: false });
  const contacts = [doc.issuer.supportEmail, doc.issuer.supportUrl].filter(Boolean).join('  ·  ');
  if (contacts) {
    pdf.font(REGULAR).fontSize(10).text(contacts, PAGE.margin, 66, { lineBreak: false });
  }
  pdf.fillColor(INK).font(BOLD).fontSize(16);
  pdf.text(`Statement no. ${doc.number}`, PAGE.margin, 130, { lineBreak: false });
  // A month still running is stated as far as it has gone (its `periodEnd` is the issue,
  // before the month's end): the figures are the ledger as it stood then, so the document
  // must not claim the days after.
  const start = doc.periodStart;
  const monthEnd = Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 1);
  const running = doc.periodEnd.getTime() < monthEnd;
  const last = running
    ? doc.periodEnd.toISOString().slice(0, 10)
    : new Date(monthEnd - 86_400_000).toISOString().slice(0, 10);
  pdf.font(REGULAR).fontSize(10).fillColor(MUTED);
  pdf.text(
    `Period ${doc.period} (${doc.periodStart.toISOString().slice(0, 10)} to ${last}, UTC)`,
    PAGE.margin,
    152,
    { lineBreak: false },
  );
  pdf.text(`Account ${doc.account.name}`, PAGE.margin, 166, { lineBreak: false });
  if (running) {
    pdf.text('Issued before the month ended: the figures are the month so far.', PAGE.margin, 180, {
      lineBreak: false,
    });
  }
  pdf.text(`Currency ${doc.figures.currency}`, 330, 152, { lineBreak: false });
  pdf.text(`Issued ${doc.issuedAt.toISOString().replace('T', ' ').slice(0, 16)} UTC`, 330, 166, {
    lineBreak: false,
  });
}

function rule(pdf: PDFKit.PDFDocument, y: number, color: string): void {
  pdf.moveTo(PAGE.margin, y).lineTo(RIGHT, y).lineWidth(0.7).strokeColor(color).stroke();
}

/** A row of cells at `y`: each cell's text, left edge and alignment within its width. */
function row(
  pdf: PDFKit.PDFDocument,
  y: number,
  cells: { text: string; x: number; width: number; align?: 'left' | 'right' }[],
  bold = false,
): void {
  pdf
    .font(bold ? BOLD : REGULAR)
    .fontSize(10)
    .fillColor(INK);
  for (const cell of cells) {
    pdf.text(cell.text, cell.x, y, {
      width: cell.width,
      align: cell.align ?? 'left',
      lineBreak: false,
      ellipsis: true,
    });
  }
}

/** The next row's y, on a new page when this one is full. */
function nextRow(pdf: PDFKit.PDFDocument, y: number): number {
  if (y + 16 < PAGE.height - PAGE.margin) return y + 16;
  pdf.addPage();
  return PAGE.margin;
}

function summary(pdf: PDFKit.PDFDocument, doc: TStatementDocument, top: number): number {
  const { figures } = doc;
  const accent = doc.issuer.accentColor ?? MUTED;
  pdf.font(BOLD).fontSize(12).fillColor(INK).text('Summary', PAGE.margin, top);
  rule(pdf, top + 18, accent);
  const lines: [string, string, boolean][] = [
    ['Opening balance', figures.openingBalance, true],
    ['Usage', figures.usageTotal, false],
    ['Payments', figures.paymentsTotal, false],
    ['Credit notes', figures.creditNotesTotal, false],
    ['Adjustments', figures.adjustmentsTotal, false],
    ['Closing balance', figures.closingBalance, true],
  ];
  let y = top + 26;
  for (const [label, amount, bold] of lines) {
    if (label === 'Closing balance') {
      rule(pdf, y - 3, accent);
      y += 2;
    }
    row(
      pdf,
      y,
      [
        { text: label, x: PAGE.margin, width: 300 },
        {
          text: `${pdfAmount(amount)} ${figures.currency}`,
          x: 350,
          width: RIGHT - 350,
          align: 'right',
        },
      ],
      bold,
    );
    y = nextRow(pdf, y);
  }
  return y;
}

function usageTable(
  pdf: PDFKit.PDFDocument,
  currency: string,
  lines: TStatementUsageLine[],
  top: number,
): number {
  pdf.font(BOLD).fontSize(12).fillColor(INK).text('Usage by destination', PAGE.margin, top);
  let y = top + 22;
  if (!lines.length) {
    pdf
      .font(REGULAR)
      .fontSize(10)
      .fillColor(MUTED)
      .text('No calls in this period.', PAGE.margin, y);
    return y + 16;
  }
  const columns = (destination: string, calls: string, seconds: string, amount: string) => [
    { text: destination, x: PAGE.margin, width: 240 },
    { text: calls, x: 295, width: 60, align: 'right' as const },
    { text: seconds, x: 360, width: 70, align: 'right' as const },
    { text: amount, x: 435, width: RIGHT - 435, align: 'right' as const },
  ];
  row(pdf, y, columns('Destination', 'Calls', 'Seconds', `Charged (${currency})`), true);
  for (const line of lines) {
    y = nextRow(pdf, y);
    row(
      pdf,
      y,
      columns(
        line.destination,
        String(line.calls),
        String(line.billedSeconds),
        pdfAmount(line.amount),
      ),
    );
  }
  return nextRow(pdf, y);
}

function movementsTable(pdf: PDFKit.PDFDocument, figures: TStatementFigures, top: number): number {
  let y = top > PAGE.height - 120 ? (pdf.addPage(), PAGE.margin) : top;
  pdf
    .font(BOLD)
    .fontSize(12)
    .fillColor(INK)
    .text('Payments, credit notes and adjustments', PAGE.margin, y);
  y += 22;
  if (!figures.movements.length) {
    pdf.font(REGULAR).fontSize(10).fillColor(MUTED).text('None in this period.', PAGE.margin, y);
    return y + 16;
  }
  const columns = (date: string, kind: string, reference: string, amount: string) => [
    { text: date, x: PAGE.margin, width: 70 },
    { text: kind, x: 125, width: 80 },
    { text: reference, x: 210, width: 220 },
    { text: amount, x: 435, width: RIGHT - 435, align: 'right' as const },
  ];
  row(pdf, y, columns('Date', 'Kind', 'Reference', `Amount (${figures.currency})`), true);
  for (const movement of figures.movements) {
    y = nextRow(pdf, y);
    row(
      pdf,
      y,
      columns(
        movement.at.slice(0, 10),
        KIND_LABEL[movement.kind] ?? movement.kind,
        movement.reference ?? '',
        pdfAmount(movement.amount),
      ),
    );
  }
  return nextRow(pdf, y);
}

function footer(pdf: PDFKit.PDFDocument, doc: TStatementDocument, top: number): void {
  const y = top > PAGE.height - 100 ? (pdf.addPage(), PAGE.margin) : top;
  const contact = doc.issuer.supportEmail ?? doc.issuer.supportUrl;
  pdf
    .font(REGULAR)
    .fontSize(8)
    .fillColor(MUTED)
    .text(
      `Issued by ${doc.issuer.name}. Amounts in ${doc.figures.currency}; a positive amount credits your account, a negative one debits it. Opening balance plus the period's movements equals the closing balance.${contact ? ` Questions: ${contact}.` : ''}`,
      PAGE.margin,
      y,
      { width: RIGHT - PAGE.margin },
    );
}
