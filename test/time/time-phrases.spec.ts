import { parseTemporalQuery } from '../../src/recall/temporal-query.js';
import { occurredRangeIn } from '../../src/retain/time-expressions.js';

/**
 * The invariant of docs/ARCHITECTURE.md, "Time in a sentence and in a question": a phrase of time
 * means the same in a retained sentence and in a question asked at the same moment, or the
 * temporal arm cannot find the fact by the words it was told in.
 */
const PHRASES = [
  'yesterday',
  'the day before yesterday',
  'last night',
  'this morning',
  'today',
  '2 days ago',
  'a couple of weeks ago',
  'three weeks ago',
  'a month ago',
  '6 months ago',
  '2 years ago',
  'last week',
  'this week',
  'the week before last',
  'last month',
  'this month',
  'last year',
  'this year',
  'earlier this year',
  'in the past week',
  'in the past 10 days',
  'in the last two weeks',
  'on Monday',
  'on Sunday',
  'last Friday',
  'this Friday',
  'next Friday',
  'last weekend',
  'over the weekend',
  'in March',
  'in May',
  'in December',
  'on 5 March',
  'on March 5',
  'in March 2024',
  'on 5 March 2024',
  'on 2024-03-05',
  'on 3/5/2024',
  'on 3/5/24',
  'on 13/5/2024',
  'on 5.3.2024',
  'next month',
  'next year',
  'in 2024-03',
  'in 2021',
  'between 2018 and 2021',
  'since March',
  'since 2020',
  'since last week',
  'in early 2024',
  'in mid-March',
  'in late June',
  'at the end of May',
  'in early March 2024',
  'in the 90s',
  'in the 1990s',
  'in the summer',
  'last summer',
  'last winter',
  'at Christmas',
  'last Christmas',
  "on New Year's Eve",
  'over Easter',
  'a few days ago',
  'a few weeks ago',
  'several months ago',
  'a few years ago',
  'a decade ago',
  'two decades ago',
  'a year and a half ago',
  'half a year ago',
  'a fortnight ago',
  'the other day',
  'recently',
  'lately',
  'in the past few days',
  'over the last few weeks',
  'in the past several months',
  'the day after tomorrow',
  'in Q1 2024',
  'in 2023 Q4',
  'in Q3',
  'in the first quarter of 2024',
  'last quarter',
  'this quarter',
  'in H1 2024',
  'in the second half of 2023',
  'around 2015',
  'circa 2010',
];

// A Wednesday at noon, the second day of a year, and a Sunday evening in the last days of one.
const MOMENTS = ['2025-06-18T12:00:00Z', '2025-01-02T09:00:00Z', '2024-12-29T18:00:00Z'].map((iso) => new Date(iso));

describe('a time phrase in a retained sentence and in a question', () => {
  it.each(MOMENTS.flatMap((now) => PHRASES.map((phrase) => [phrase, now.toISOString()] as const)))(
    'means the same: %p at %s',
    (phrase, at) => {
      const now = new Date(at);
      const stated = occurredRangeIn(`Anna swam ${phrase}.`, now);
      const asked = parseTemporalQuery(`What did Anna do ${phrase}?`, now);
      expect(stated).not.toBeNull();
      expect({ start: stated!.start, end: stated!.end }).toEqual({ start: asked?.start, end: asked?.end });
    },
  );
});
