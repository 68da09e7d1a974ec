import { parseTemporalQuery } from '../../src/recall/temporal-query.js';

// A Wednesday afternoon, so "this week" (from Monday 16 June) and "today" differ.
const NOW = new Date('2025-06-18T15:30:00Z');

function rangeOf(query: string, now = NOW): [string, string] | null {
  const range = parseTemporalQuery(query, now);
  return range && [range.start.toISOString(), range.end.toISOString()];
}

const day = (date: string) => `${date}T00:00:00.000Z`;

describe('parseTemporalQuery', () => {
  it.each([
    ['What happened yesterday?', day('2025-06-17'), day('2025-06-18')],
    ['what did I do today', day('2025-06-18'), day('2025-06-19')],
    ['anything from the day before yesterday?', day('2025-06-16'), day('2025-06-17')],
    ['What happened this week?', day('2025-06-16'), day('2025-06-23')],
    ['What happened last week?', day('2025-06-09'), day('2025-06-16')],
    ['meetings this month', day('2025-06-01'), day('2025-07-01')],
    ['what did Ana buy last month', day('2025-05-01'), day('2025-06-01')],
    ['trips last year', day('2024-01-01'), day('2025-01-01')],
    ['the call 3 days ago', day('2025-06-15'), day('2025-06-16')],
    ['something two weeks ago', day('2025-06-02'), day('2025-06-09')],
    ['a couple of weeks ago', day('2025-06-02'), day('2025-06-09')],
    ['the party 6 months ago', day('2024-12-01'), day('2025-01-01')],
    ['what changed in March 2024', day('2024-03-01'), day('2024-04-01')],
    ['Mar. 2024 invoices', day('2024-03-01'), day('2024-04-01')],
    ['which trips in 2023', day('2023-01-01'), day('2024-01-01')],
    ['what happened on 5 March 2024', day('2024-03-05'), day('2024-03-06')],
    ['on the 5th of March, 2024', day('2024-03-05'), day('2024-03-06')],
    ['on March 5, 2024', day('2024-03-05'), day('2024-03-06')],
    ['notes from 2024-03-05', day('2024-03-05'), day('2024-03-06')],
    ['notes from 2024-03-05T10:00:00Z', day('2024-03-05'), day('2024-03-06')],
    ['report for 2024-02', day('2024-02-01'), day('2024-03-01')],
    // A month alone is the most recent one that has begun: this year's March, last year's December.
    ['what happened in March', day('2025-03-01'), day('2025-04-01')],
    ['the December offsite', day('2024-12-01'), day('2025-01-01')],
    ['plans for June', day('2025-06-01'), day('2025-07-01')],
    ['what did we do last June', day('2024-06-01'), day('2024-07-01')],
    ['birthday in May', day('2025-05-01'), day('2025-06-01')],
    ['since March 2024', day('2024-03-01'), NOW.toISOString()],
    ['since 2024-06-01', day('2024-06-01'), NOW.toISOString()],
    ['since 2020', day('2020-01-01'), NOW.toISOString()],
    ['in the last 10 days', '2025-06-08T15:30:00.000Z', NOW.toISOString()],
    ['over the past week', '2025-06-11T15:30:00.000Z', NOW.toISOString()],
    ['on Monday', day('2025-06-16'), day('2025-06-17')],
    ['last Friday', day('2025-06-13'), day('2025-06-14')],
    ['last Wednesday', day('2025-06-11'), day('2025-06-12')],
    ['on Wednesday', day('2025-06-18'), day('2025-06-19')],
    ['on 20 March', day('2025-03-20'), day('2025-03-21')],
    ['on December 24th', day('2024-12-24'), day('2024-12-25')],
    ['between March 2024 and May 2024', day('2024-03-01'), day('2024-06-01')],
    ['What did Ana do between 2018 and 2021?', day('2018-01-01'), day('2022-01-01')],
    ['Where did Bob live from 2015 to 2017?', day('2015-01-01'), day('2018-01-01')],
    ['What did Ana study in 2018-2021?', day('2018-01-01'), day('2022-01-01')],
    // Seasons: three months, named by the year they begin in; "last" is the most recent that has ended.
    ['What did we do last summer?', day('2024-06-01'), day('2024-09-01')],
    ['Where did Ana go in the summer of 2023?', day('2023-06-01'), day('2023-09-01')],
    ['what did Bob do in winter 2023', day('2023-12-01'), day('2024-03-01')],
    ['what happened in the spring', day('2025-03-01'), day('2025-06-01')],
    ['trips last fall', day('2024-09-01'), day('2024-12-01')],
  ])('%s', (query, start, end) => {
    expect(rangeOf(query)).toEqual([start, end]);
  });

  it('keeps the day of month inside a shorter month when counting months back', () => {
    expect(rangeOf('a month ago', new Date('2025-03-31T12:00:00Z'))).toEqual([day('2025-02-01'), day('2025-03-01')]);
  });

  it('takes the season of now for "this", and one that has ended for "last"', () => {
    expect(rangeOf('plans for this winter', new Date('2025-01-10T00:00:00Z'))).toEqual([day('2024-12-01'), day('2025-03-01')]);
    expect(rangeOf('What did we do last summer?', new Date('2025-10-02T00:00:00Z'))).toEqual([day('2025-06-01'), day('2025-09-01')]);
    expect(rangeOf('who was hurt in the fall')).toBeNull();
  });

  it.each([
    // NOW is 18 June 2025: Easter was 18 to 21 April.
    ['What did Ana do at Christmas?', day('2024-12-24'), day('2024-12-27')],
    ['Who came on Christmas Eve 2022?', day('2022-12-24'), day('2022-12-25')],
    ['What did Bob wear last Halloween?', day('2024-10-31'), day('2024-11-01')],
    ['Where did we go over Easter?', day('2025-04-18'), day('2025-04-22')],
    ['What happened on Easter Sunday 2024?', day('2024-03-31'), day('2024-04-01')],
    ['Who cooked on Valentine’s Day?', day('2025-02-14'), day('2025-02-15')],
    ["Where were we on New Year's Eve?", day('2024-12-31'), day('2025-01-01')],
    ['What has Ana read since Christmas?', day('2024-12-24'), '2025-06-18T15:30:00.000Z'],
  ])('reads the holiday in %p as its days', (query, start, end) => {
    expect(rangeOf(query)).toEqual([start, end]);
  });

  it.each([
    // NOW is Wednesday 18 June 2025.
    ['What will Ana do in August?', day('2025-08-01'), day('2025-09-01')],
    ['Is Anna moving in May?', day('2026-05-01'), day('2026-06-01')],
    ['Where are we meeting on Monday?', day('2025-06-23'), day('2025-06-24')],
    ["What's Bob doing on 1 March?", day('2026-03-01'), day('2026-03-02')],
    ['Where will we spend Christmas?', day('2025-12-24'), day('2025-12-27')],
    ['What will Ana plant in the spring?', day('2026-03-01'), day('2026-06-01')],
    // The current month has not ended; "since" looks back whatever the tense.
    ['What will Ana finish in June?', day('2025-06-01'), day('2025-07-01')],
    ['What will Ana have read since May?', day('2025-05-01'), '2025-06-18T15:30:00.000Z'],
  ])('takes the next date without a year or week in %p, a question about the future', (query, start, end) => {
    expect(rangeOf(query)).toEqual([start, end]);
  });

  it('takes the last one in the same question about the past', () => {
    expect(rangeOf('What did Ana do in August?')).toEqual([day('2024-08-01'), day('2024-09-01')]);
    expect(rangeOf('Where did we meet on Monday?')).toEqual([day('2025-06-16'), day('2025-06-17')]);
    expect(rangeOf('What was the thing Ana bought in May?')).toEqual([day('2025-05-01'), day('2025-06-01')]);
  });

  it.each([
    // NOW is Wednesday 18 June 2025, in the week from Monday 16 June.
    ['What did Ana do last night?', day('2025-06-17'), day('2025-06-18')],
    ['Where did we go last weekend?', day('2025-06-14'), day('2025-06-16')],
    ['What did Bob fix over the weekend?', day('2025-06-14'), day('2025-06-16')],
    ['What will Bob fix over the weekend?', day('2025-06-21'), day('2025-06-23')],
    ['Who visits this weekend?', day('2025-06-21'), day('2025-06-23')],
    ['What is planned for next week?', day('2025-06-23'), day('2025-06-30')],
    ['Who moved the week before last?', day('2025-06-02'), day('2025-06-09')],
    ['What opens next Friday?', day('2025-06-27'), day('2025-06-28')],
    ['Who comes this Friday?', day('2025-06-20'), day('2025-06-21')],
  ])('reads %p by ISO weeks', (query, start, end) => {
    expect(rangeOf(query)).toEqual([start, end]);
  });

  it.each([
    ['Where did Ana live in early 2024?', day('2024-01-01'), day('2024-05-01')],
    // NOW is 18 June 2025: the end of May has been, late June not yet.
    ['What happened at the end of May?', day('2025-05-21'), day('2025-06-01')],
    ['What happened in mid-March 2024?', day('2024-03-11'), day('2024-03-21')],
    ['What happened in late June?', day('2024-06-21'), day('2024-07-01')],
    ['What happened in mid-2023?', day('2023-05-01'), day('2023-09-01')],
    ['Who left at the end of 2022?', day('2022-09-01'), day('2023-01-01')],
    ['What did Bob do in the 1990s?', day('1990-01-01'), day('2000-01-01')],
    ['Which band played in the early 2000s?', day('2000-01-01'), day('2004-01-01')],
    ['What was built in the 1900s?', day('1900-01-01'), day('2000-01-01')],
    // NOW is in 2025: "the 20s" are these, "the 30s" the last ones.
    ['Where did Ana live in the 20s?', day('2020-01-01'), day('2030-01-01')],
    ['Where did Ana live in the 30s?', day('1930-01-01'), day('1940-01-01')],
  ])('reads the part of a year or decade in %p', (query, start, end) => {
    expect(rangeOf(query)).toEqual([start, end]);
  });

  it.each([
    ['What happened on 3/5/2024?', day('2024-03-05'), day('2024-03-06')],
    ['What happened on 13/5/2024?', day('2024-05-13'), day('2024-05-14')],
    ['What happened on 5.3.2024?', day('2024-03-05'), day('2024-03-06')],
    ['What happened on 3/5/24?', day('2024-03-05'), day('2024-03-06')],
    ['What happened on 12/25/99?', day('1999-12-25'), day('1999-12-26')],
    ['What will Ana do next month?', day('2025-07-01'), day('2025-08-01')],
    ['What will Ana do next year?', day('2026-01-01'), day('2027-01-01')],
  ])('reads %p', (query, start, end) => {
    expect(rangeOf(query)).toEqual([start, end]);
  });

  it('takes a date written as numbers that does not exist, or a version, for no time', () => {
    expect(rangeOf('What happened on 31/4/2024?')).toBeNull();
    expect(rangeOf('What changed in version 4.2.19?')).toBeNull();
  });

  it('takes a holiday named with a thing for no time', () => {
    expect(rangeOf('Who bought the Christmas tree?')).toBeNull();
    expect(rangeOf('Which Halloween costume did Ana make?')).toBeNull();
  });

  it('crosses year boundaries', () => {
    const january = new Date('2025-01-02T08:00:00Z');
    expect(rangeOf('last month', january)).toEqual([day('2024-12-01'), day('2025-01-01')]);
    expect(rangeOf('last week', january)).toEqual([day('2024-12-23'), day('2024-12-30')]);
    expect(rangeOf('this week', january)).toEqual([day('2024-12-30'), day('2025-01-06')]);
  });

  it('keeps the years of the first century, and ends at the last instant of 9999', () => {
    const early = new Date('0050-03-10T08:00:00Z');
    expect(rangeOf('yesterday', early)).toEqual([day('0050-03-09'), day('0050-03-10')]);
    expect(rangeOf('last week', early)).toEqual([day('0050-02-28'), day('0050-03-07')]);
    expect(rangeOf('today', new Date('9999-12-31T18:00:00Z'))).toEqual([day('9999-12-31'), '9999-12-31T23:59:59.999Z']);
  });

  it('reports the phrases it used', () => {
    expect(parseTemporalQuery('What did Ana do since March 2024?', NOW)?.expressions).toEqual(['since March 2024']);
  });

  it.each([
    'What does Ana like to eat?',
    'What may Ana bring to the party?',
    'Who owns 2024 shares of the fund?',
    'Is the 2024-02-31 report ready?',
    'Which marathon did Ana run?',
    'The maybe-list of weekend plans',
    '',
  ])('finds no time in %p', (query) => {
    expect(parseTemporalQuery(query, NOW)).toBeNull();
  });
});
