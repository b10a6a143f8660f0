/** Years 0001 to 9999: what ISO 8601 writes in four digits, and well inside PostgreSQL's timestamptz range (4713 BC – 294276 AD). */
export const MIN_DATE = new Date('0001-01-01T00:00:00.000Z');
export const MAX_DATE = new Date('9999-12-31T23:59:59.999Z');

/** A client-given date that may reach a query: valid, and in range (year 0000 makes the driver fail). */
export const isStorableDate = (d: Date) => !Number.isNaN(d.getTime()) && d >= MIN_DATE && d <= MAX_DATE;
