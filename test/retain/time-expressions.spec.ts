import { parseTemporalQuery } from '../../src/recall/temporal-query.js';
import { occurredRangeIn } from '../../src/retain/time-expressions.js';
import { easterSunday } from '../../src/time/holidays.js';

const REFERENCE = new Date('2026-06-15T12:00:00Z'); // a Monday
const range = (sentence: string, reference: Date | null = REFERENCE) => {
  const found = occurredRangeIn(sentence, reference);
  return found && [found.start.toISOString(), found.end.toISOString()];
};

/** Each sentence, retained at REFERENCE, states the time its question asks about at REFERENCE. */
function expectReadAlike(pairs: Array<[sentence: string, question: string]>): void {
  for (const [sentence, question] of pairs) {
    const stated = occurredRangeIn(sentence, REFERENCE)!;
    const asked = parseTemporalQuery(question, REFERENCE)!;
    expect({ sentence, start: stated.start, end: stated.end }).toEqual({ sentence, start: asked.start, end: asked.end });
  }
}

describe('the time a sentence states', () => {
  it('is as wide as the words pin down, resolved against the item time', () => {
    expect(range('Alice joined Acme Corp as a staff engineer in March 2024.')).toEqual([
      '2024-03-01T00:00:00.000Z',
      '2024-04-01T00:00:00.000Z',
    ]);
    expect(range('The launch is on 14 August 2027.')).toEqual(['2027-08-14T00:00:00.000Z', '2027-08-15T00:00:00.000Z']);
    expect(range('We met last Tuesday.')).toEqual(['2026-06-09T00:00:00.000Z', '2026-06-10T00:00:00.000Z']);
    // The week it falls in, as a question reads "two weeks ago" (chrono took the same weekday).
    expect(range('She moved to Oslo two weeks ago.')).toEqual(['2026-06-01T00:00:00.000Z', '2026-06-08T00:00:00.000Z']);
    expect(range('Yesterday at 3pm Bruno called.')).toEqual(['2026-06-14T15:00:00.000Z', '2026-06-14T16:00:00.000Z']);
    expect(range('Evan Novak lived in Berlin in 2021.')).toEqual(['2021-01-01T00:00:00.000Z', '2022-01-01T00:00:00.000Z']);
    expect(range('The fair ran from 3 to 5 May 2023.')).toEqual(['2023-05-03T00:00:00.000Z', '2023-05-06T00:00:00.000Z']);
    expect(range('From 2018 to 2021 she studied law.')).toEqual(['2018-01-01T00:00:00.000Z', '2022-01-01T00:00:00.000Z']);
    expect(range('Between 2018 and 2021 he lived in Oslo.')).toEqual(['2018-01-01T00:00:00.000Z', '2022-01-01T00:00:00.000Z']);
    expect(range('In 2019-2020 we hiked every month.')).toEqual(['2019-01-01T00:00:00.000Z', '2021-01-01T00:00:00.000Z']);
  });

  it('finds none in a sentence without a time, in a schedule, or in a number that is no year', () => {
    expect(range('Bruno changed his phone number to 555-0199.')).toBeNull();
    expect(range('The team sync is every Monday at 10am.')).toBeNull();
    expect(range('Evan Novak lives in Berlin.')).toBeNull();
    expect(range('Julia keeps 2021 stamps.')).toBeNull();
  });

  it('keeps the years of the first century and ends a range at the last instant of 9999', () => {
    const reference = new Date('0050-06-15T12:00:00Z');
    expect(range('We met yesterday.', reference)).toEqual(['0050-06-14T00:00:00.000Z', '0050-06-15T00:00:00.000Z']);
    expect(range('She arrived last month.', reference)).toEqual(['0050-05-01T00:00:00.000Z', '0050-06-01T00:00:00.000Z']);
    expect(range('Ada met Bob on 31 December 9999.')).toEqual(['9999-12-31T00:00:00.000Z', '9999-12-31T23:59:59.999Z']);
    expect(range('Ada meets Bob tomorrow.', new Date('9999-12-31T12:00:00Z'))).toBeNull();
  });

  it('takes only absolute dates when the item has no time of its own', () => {
    expect(range('We met yesterday.', null)).toBeNull();
    expect(range('The launch is on 14 August 2027.', null)).toEqual(['2027-08-14T00:00:00.000Z', '2027-08-15T00:00:00.000Z']);
    // A year or a span of years with nothing finer is absolute too.
    expect(range('Evan Novak lived in Berlin in 2021.', null)).toEqual(['2021-01-01T00:00:00.000Z', '2022-01-01T00:00:00.000Z']);
    expect(range('From 2018 to 2021 she studied law.', null)).toEqual(['2018-01-01T00:00:00.000Z', '2022-01-01T00:00:00.000Z']);
    expect(range('In the summer of 2023 she sailed to Corsica.', null)).toEqual(['2023-06-01T00:00:00.000Z', '2023-09-01T00:00:00.000Z']);
    expect(range('Last summer she sailed to Corsica.', null)).toBeNull();
  });

  it('reads a season as its three months, named by the year it begins in', () => {
    // The reference is 15 June 2026, in the summer.
    expect(range('Last summer we went to Rome.')).toEqual(['2025-06-01T00:00:00.000Z', '2025-09-01T00:00:00.000Z']);
    expect(range('In the spring Bob planted tomatoes.')).toEqual(['2026-03-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z']);
    expect(range('In winter 2023 it snowed every week.')).toEqual(['2023-12-01T00:00:00.000Z', '2024-03-01T00:00:00.000Z']);
    expect(range('Last fall he quit the choir.')).toEqual(['2025-09-01T00:00:00.000Z', '2025-12-01T00:00:00.000Z']);
    expect(range('This winter Ana skis in Tromsø.', new Date('2026-01-10T12:00:00Z'))).toEqual([
      '2025-12-01T00:00:00.000Z',
      '2026-03-01T00:00:00.000Z',
    ]);
    // "the fall" alone is as often an accident, and every summer is a schedule.
    expect(range('He was hurt in the fall.')).toBeNull();
    expect(range('We hike every summer.')).toBeNull();
  });

  it('reads a date without a year or week as the last one by then, as a question does', () => {
    // The reference is Monday 15 June 2026: chrono's nearest Thursday and September were ahead.
    expect(range('Bruno repainted his boat on Thursday.')).toEqual(['2026-06-11T00:00:00.000Z', '2026-06-12T00:00:00.000Z']);
    expect(range('Anna moved to Berlin in September.')).toEqual(['2025-09-01T00:00:00.000Z', '2025-10-01T00:00:00.000Z']);
    expect(range('We met on 1 September.')).toEqual(['2025-09-01T00:00:00.000Z', '2025-09-02T00:00:00.000Z']);
    expect(range('The fair ran from 3 to 5 September.')).toEqual(['2025-09-03T00:00:00.000Z', '2025-09-06T00:00:00.000Z']);
    // The current month and day count as begun.
    expect(range('Anna moved to Berlin in June.')).toEqual(['2026-06-01T00:00:00.000Z', '2026-07-01T00:00:00.000Z']);
    expect(range('Bruno called on Monday.')).toEqual(['2026-06-15T00:00:00.000Z', '2026-06-16T00:00:00.000Z']);
    // Its own words may say which.
    expect(range('This Thursday Bruno paints the boat.')).toEqual(['2026-06-18T00:00:00.000Z', '2026-06-19T00:00:00.000Z']);

    expectReadAlike([
      ['Bruno repainted his boat on Thursday.', 'What did Bruno do on Thursday?'],
      ['Anna moved to Berlin in September.', 'Where did Anna move in September?'],
      ['We met on 1 September.', 'Who did we meet on 1 September?'],
    ]);
  });

  it('reads it as the next one in a sentence about the future', () => {
    expect(range('Bruno will repaint his boat on Thursday.')).toEqual(['2026-06-18T00:00:00.000Z', '2026-06-19T00:00:00.000Z']);
    expect(range('Anna is moving to Berlin in September.')).toEqual(['2026-09-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z']);
    // May has passed: chrono's nearest 1 May was the one before.
    expect(range("We'll meet on 1 May.")).toEqual(['2027-05-01T00:00:00.000Z', '2027-05-02T00:00:00.000Z']);
    expect(range('Ana plans to visit Oslo in May.')).toEqual(['2027-05-01T00:00:00.000Z', '2027-06-01T00:00:00.000Z']);
    // In October, the summer to come rather than the one gone.
    expect(range('We will sail in the summer.', new Date('2026-10-05T12:00:00Z'))).toEqual([
      '2027-06-01T00:00:00.000Z',
      '2027-09-01T00:00:00.000Z',
    ]);

    // Not "will" the noun, not "was going to", and never after "since".
    expect(range('Anna wrote her will in March.')).toEqual(['2026-03-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z']);
    expect(range('Anna was going to visit in May.')).toEqual(['2026-05-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z']);
    // After "since", until the item's time, as in a sentence about the past and a question.
    expect(range('She is living in Porto since 3 May.')).toEqual(['2026-05-03T00:00:00.000Z', '2026-06-15T12:00:00.000Z']);

    // As a question about the future reads it.
    expectReadAlike([
      ['Anna is moving to Berlin in September.', 'Is Anna moving in September?'],
      ['Bruno will repaint his boat on Thursday.', 'What will Bruno do on Thursday?'],
      ['We will spend Christmas in Oslo.', 'Where will we spend Christmas?'],
    ]);
  });

  it('reads an arrangement told in the present as the next one, as a question in the present does', () => {
    // The reference is Monday 15 June 2026, at noon.
    expect(range('The wedding is on Saturday.')).toEqual(['2026-06-20T00:00:00.000Z', '2026-06-21T00:00:00.000Z']);
    expect(range('I have a dentist appointment on Thursday.')).toEqual(['2026-06-18T00:00:00.000Z', '2026-06-19T00:00:00.000Z']);
    expect(range('Her flight leaves on Friday.')).toEqual(['2026-06-19T00:00:00.000Z', '2026-06-20T00:00:00.000Z']);
    expect(range('We leave for Lisbon in May.')).toEqual(['2027-05-01T00:00:00.000Z', '2027-06-01T00:00:00.000Z']);
    expect(range("Anna's got an exam on 3 June.")).toEqual(['2027-06-03T00:00:00.000Z', '2027-06-04T00:00:00.000Z']);
    expect(range('The meeting is at 11am.')).toEqual(['2026-06-16T11:00:00.000Z', '2026-06-16T12:00:00.000Z']);
    expect(range('Anna told me the course starts on Thursday.')).toEqual(['2026-06-18T00:00:00.000Z', '2026-06-19T00:00:00.000Z']);
    expect(range('I think the meeting is on Friday.')).toEqual(['2026-06-19T00:00:00.000Z', '2026-06-20T00:00:00.000Z']);
    expect(range('The kids start school in September.')).toEqual(['2026-09-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z']);
    expect(range('She is pregnant and due in November.')).toEqual(['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z']);
    expect(range('We are on holiday in July.')).toEqual(['2026-07-01T00:00:00.000Z', '2026-08-01T00:00:00.000Z']);
    expect(range('My son turns 5 on Saturday.')).toEqual(['2026-06-20T00:00:00.000Z', '2026-06-21T00:00:00.000Z']);
    // A day of the month without the month: the next one that has not ended, as a question in the present reads it.
    expect(range('Our anniversary is on the 14th.')).toEqual(['2026-07-14T00:00:00.000Z', '2026-07-15T00:00:00.000Z']);
    expect(range('We met on the 14th.')).toEqual(['2026-06-14T00:00:00.000Z', '2026-06-15T00:00:00.000Z']);
    expectReadAlike([['The rent is due on the 1st.', 'What is due on the 1st?']]);

    // Still the last one: a past tense anywhere, a noun that looks like such a verb, a birth.
    expect(range('The leaves fell on Thursday.')).toEqual(['2026-06-11T00:00:00.000Z', '2026-06-12T00:00:00.000Z']);
    expect(range('We were on holiday in July.')).toEqual(['2025-07-01T00:00:00.000Z', '2025-08-01T00:00:00.000Z']);
    expect(range('The kids started school in September.')).toEqual(['2025-09-01T00:00:00.000Z', '2025-10-01T00:00:00.000Z']);
    expect(range('I have a friend I met in May.')).toEqual(['2026-05-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z']);
    expect(range('Anna said the course started on Thursday.')).toEqual(['2026-06-11T00:00:00.000Z', '2026-06-12T00:00:00.000Z']);
    expect(range('I have a daughter born in May.')).toEqual(['2026-05-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z']);
    expect(range('Our son has the flu since Thursday.')).toEqual(['2026-06-11T00:00:00.000Z', '2026-06-15T12:00:00.000Z']);

    expectReadAlike([
      ['I have a dentist appointment on Thursday.', 'What do I have on Thursday?'],
      ['The wedding is on Saturday.', 'Is the wedding on Saturday?'],
      ['Anna goes to the market on Saturday.', 'Where does Anna go on Saturday?'],
      ['Her flight leaves on Friday.', 'What time does her flight leave on Friday?'],
      ['Bruno has a race over the weekend.', 'What does Bruno have over the weekend?'],
      ['The course starts in September.', 'What starts in September?'],
    ]);
    // A question about the past, or about what is remembered of a time, asks for the last one.
    for (const question of ['What did I have on Thursday?', 'Where did we go on Thursday?', 'What do I remember from Thursday?'])
      expect({ question, start: parseTemporalQuery(question, REFERENCE)?.start }).toEqual({
        question,
        start: new Date('2026-06-11T00:00:00.000Z'),
      });
  });

  it('reads vague and relative times alike on both sides, and a duration as no time', () => {
    // The reference is Monday 15 June 2026, at noon.
    expect(range('We met a few days ago.')).toEqual(['2026-06-11T00:00:00.000Z', '2026-06-14T00:00:00.000Z']);
    expect(range('Anna recently moved to Berlin.')).toEqual(['2026-05-16T00:00:00.000Z', '2026-06-16T00:00:00.000Z']);
    expect(range('Sales doubled in Q1 2024.')).toEqual(['2024-01-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);
    expect(range('The shop opened around 2015.')).toEqual(['2014-01-01T00:00:00.000Z', '2017-01-01T00:00:00.000Z']);
    // "In two weeks" is a time in words about the future, and how long it took in words about the
    // past, where chrono read a time two weeks on.
    expect(range('Anna will fly to Rome in two weeks.')).toEqual(['2026-06-29T00:00:00.000Z', '2026-07-06T00:00:00.000Z']);
    expect(range('She learned Spanish in two years.')).toBeNull();
    expect(range('He finished the book in a week.')).toBeNull();
    // Not a time: "until recently" ends there, a number of people, a car.
    expect(range('Until recently Bob lived in Rome.')).toBeNull();
    expect(range('Around 2000 people came to the fair.')).toBeNull();
    expect(range('Anna bought an Audi Q3 in May.')).toEqual(['2026-05-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z']);
    expect(range('In the last quarter of the game Bob scored.')).toBeNull();
    // A day after something else, not after the item: chrono's tomorrow, as before.
    expect(range('The next day, Anna left for Rome.')).toEqual(['2026-06-16T00:00:00.000Z', '2026-06-17T00:00:00.000Z']);

    expectReadAlike([
      ['Anna will fly to Rome in two weeks.', 'What will Anna do in two weeks?'],
      ['We will meet in a few days.', 'Who will we meet in a few days?'],
      ['Anna recently moved to Berlin.', 'Where has Anna moved recently?'],
    ]);
    expect(parseTemporalQuery('What did Anna learn in two years?', REFERENCE)).toBeNull();
  });

  it('reads "coming up" as the month ahead, and a vague time as giving way to a precise one', () => {
    // The reference is Monday 15 June 2026, at noon.
    expect(range('Anna will move soon.')).toEqual(['2026-06-15T00:00:00.000Z', '2026-07-16T00:00:00.000Z']);
    expectReadAlike([
      ['Bob has a dentist appointment coming up.', 'What does Bob have coming up?'],
      ['Anna has an upcoming trip to Rome.', 'Which trips are upcoming?'],
    ]);
    // The "soon" of a story, and "as soon as", are no time.
    expect(range('Anna soon found a job.')).toBeNull();
    expect(range('Call me as soon as you land.')).toBeNull();
    // Where the words also say when, that is the time, on both sides.
    expect(range('Anna told me about her upcoming trip to Rome in May.')).toEqual(['2027-05-01T00:00:00.000Z', '2027-06-01T00:00:00.000Z']);
    expect(range('I recently moved to Berlin in May.')).toEqual(['2026-05-01T00:00:00.000Z', '2026-06-01T00:00:00.000Z']);
    expect(parseTemporalQuery('What did Anna do recently in May?', REFERENCE)).toMatchObject({
      start: new Date('2026-05-01T00:00:00.000Z'),
      end: new Date('2026-06-01T00:00:00.000Z'),
    });
  });

  it('reads a number before a time as no hour unless words make it one', () => {
    // chrono took "19 last week" for Monday 19:00 to Sunday 20:00 and "10 last Sunday" for 10 am.
    expect(range('We sold 19 last week.')).toEqual(['2026-06-08T00:00:00.000Z', '2026-06-15T00:00:00.000Z']);
    expect(range('Anna installed version 4.2.19 last week.')).toEqual(['2026-06-08T00:00:00.000Z', '2026-06-15T00:00:00.000Z']);
    expect(range('She scored 10 last Sunday.')).toEqual(['2026-06-14T00:00:00.000Z', '2026-06-15T00:00:00.000Z']);
    expect(range('Room 12 on Friday was booked.')).toEqual(['2026-06-12T00:00:00.000Z', '2026-06-13T00:00:00.000Z']);
    // An hour where words make it one, and a date.
    expect(range('We met at 10 on Sunday.')).toEqual(['2026-06-14T10:00:00.000Z', '2026-06-14T11:00:00.000Z']);
    expect(range('The train left at 10:30 yesterday.')).toEqual(['2026-06-14T10:00:00.000Z', '2026-06-14T11:00:00.000Z']);
    expect(range('We met on May 12 on a Friday.')).toEqual(['2026-05-12T00:00:00.000Z', '2026-05-13T00:00:00.000Z']);
  });

  it("reads one to six o'clock without am or pm as the afternoon, unless the words are of the night or morning", () => {
    // chrono took them for the morning: 02:00 and 06:00.
    expect(range('Meeting with Bob at 2 tomorrow.')).toEqual(['2026-06-16T14:00:00.000Z', '2026-06-16T15:00:00.000Z']);
    expect(range('Dinner at 6 on Friday.')).toEqual(['2026-06-12T18:00:00.000Z', '2026-06-12T19:00:00.000Z']);
    expect(range('The baby woke at 3 in the morning.')).toEqual(['2026-06-15T03:00:00.000Z', '2026-06-15T04:00:00.000Z']);
    expect(range('I woke at 6 today.')).toEqual(['2026-06-15T06:00:00.000Z', '2026-06-15T07:00:00.000Z']);
    expect(range('We met at 10 on Sunday.')).toEqual(['2026-06-14T10:00:00.000Z', '2026-06-14T11:00:00.000Z']);
  });

  it('reads a holiday as its days, as a question does', () => {
    // The reference is 15 June 2026: Easter was 3 to 6 April.
    expect(range('We spent Christmas in Oslo.')).toEqual(['2025-12-24T00:00:00.000Z', '2025-12-27T00:00:00.000Z']);
    expect(range('On Christmas Eve 2022 Anna proposed.')).toEqual(['2022-12-24T00:00:00.000Z', '2022-12-25T00:00:00.000Z']);
    expect(range('At Easter we visited Rome.')).toEqual(['2026-04-03T00:00:00.000Z', '2026-04-07T00:00:00.000Z']);
    expect(range('Last Halloween Bob dressed as a ghost.')).toEqual(['2025-10-31T00:00:00.000Z', '2025-11-01T00:00:00.000Z']);
    expect(range('We will spend Christmas in Oslo.')).toEqual(['2026-12-24T00:00:00.000Z', '2026-12-27T00:00:00.000Z']);
    expect(range('Christmas 2023 was quiet.', null)).toEqual(['2023-12-24T00:00:00.000Z', '2023-12-27T00:00:00.000Z']);
    expect(range('We spent Christmas in Oslo.', null)).toBeNull();
    // A bare name is as often a thing.
    expect(range('Anna bought a Christmas tree.')).toBeNull();

    expectReadAlike([
      ['We spent Christmas in Oslo.', 'What did we do at Christmas?'],
      ['At Easter we visited Rome.', 'Where did we go over Easter?'],
      ["On New Year's Eve we watched fireworks.", "What did we watch on New Year's Eve?"],
    ]);
  });

  it('finds Easter by the Gregorian reckoning', () => {
    const easters = [1961, 2000, 2024, 2025, 2038, 2285].map((year) => easterSunday(year).toISOString().slice(0, 10));
    expect(easters).toEqual(['1961-04-02', '2000-04-23', '2024-03-31', '2025-04-20', '2038-04-25', '2285-03-22']);
  });

  it('reads weeks and weekends as whole ISO weeks and Saturdays with Sundays, as a question does', () => {
    // The reference is Monday 15 June 2026, at noon.
    expect(range('We met last week.')).toEqual(['2026-06-08T00:00:00.000Z', '2026-06-15T00:00:00.000Z']);
    expect(range('Anna is busy this week.')).toEqual(['2026-06-15T00:00:00.000Z', '2026-06-22T00:00:00.000Z']);
    expect(range('We hiked last weekend.')).toEqual(['2026-06-13T00:00:00.000Z', '2026-06-15T00:00:00.000Z']);
    expect(range('We hiked over the weekend.')).toEqual(['2026-06-13T00:00:00.000Z', '2026-06-15T00:00:00.000Z']);
    expect(range('We will hike over the weekend.')).toEqual(['2026-06-20T00:00:00.000Z', '2026-06-22T00:00:00.000Z']);
    expect(range('Bob moved the week before last.')).toEqual(['2026-06-01T00:00:00.000Z', '2026-06-08T00:00:00.000Z']);
    expect(range('The fair opens next Friday.')).toEqual(['2026-06-26T00:00:00.000Z', '2026-06-27T00:00:00.000Z']);
    // An hour without a day is the last one by then too, or the next in a sentence about the future.
    expect(range('Bruno called at 3pm.')).toEqual(['2026-06-14T15:00:00.000Z', '2026-06-14T16:00:00.000Z']);
    expect(range('Bruno will call at 3pm.')).toEqual(['2026-06-15T15:00:00.000Z', '2026-06-15T16:00:00.000Z']);

    expectReadAlike([
      ['We met last week.', 'Who did we meet last week?'],
      ['We hiked over the weekend.', 'What did we do over the weekend?'],
      ['Bob moved the week before last.', 'Who moved the week before last?'],
      ['The fair opens next Friday.', 'What opens next Friday?'],
    ]);
  });

  it('reads "since" and a window of the last days as running to the item time, and a month written as numbers', () => {
    // The reference is Monday 15 June 2026, at noon.
    expect(range('Anna has lived in Oslo since 2020.')).toEqual(['2020-01-01T00:00:00.000Z', '2026-06-15T12:00:00.000Z']);
    expect(range('Anna has swum daily since 3 May.')).toEqual(['2026-05-03T00:00:00.000Z', '2026-06-15T12:00:00.000Z']);
    expect(range('Bob ran four times in the past 10 days.')).toEqual(['2026-06-05T12:00:00.000Z', '2026-06-15T12:00:00.000Z']);
    expect(range('The invoice for 2024-03 is paid.', null)).toEqual(['2024-03-01T00:00:00.000Z', '2024-04-01T00:00:00.000Z']);

    expectReadAlike([
      ['Anna has lived in Oslo since 2020.', 'Where has Anna lived since 2020?'],
      ['Bob ran four times in the past 10 days.', 'What did Bob do in the past 10 days?'],
      ['The invoice for 2024-03 is paid.', 'Which invoice for 2024-03 is paid?'],
      ['She moved to Oslo two weeks ago.', 'Who moved two weeks ago?'],
    ]);
  });

  it('reads parts of a year, decades and centuries, as a question does', () => {
    expect(range('Anna lived in Oslo in early 2024.', null)).toEqual(['2024-01-01T00:00:00.000Z', '2024-05-01T00:00:00.000Z']);
    expect(range('Bob retired at the end of 2023.', null)).toEqual(['2023-09-01T00:00:00.000Z', '2024-01-01T00:00:00.000Z']);
    expect(range('In the 1990s she sailed.', null)).toEqual(['1990-01-01T00:00:00.000Z', '2000-01-01T00:00:00.000Z']);
    expect(range("He grew up in the late '90s.", null)).toEqual(['1997-01-01T00:00:00.000Z', '2000-01-01T00:00:00.000Z']);
    expect(range('The house was built in the 1800s.', null)).toEqual(['1800-01-01T00:00:00.000Z', '1900-01-01T00:00:00.000Z']);
    // A two-digit decade is the last that has begun by the item's time, so it needs one.
    expect(range('They met in the 20s.')).toEqual(['2020-01-01T00:00:00.000Z', '2030-01-01T00:00:00.000Z']);
    expect(range('They met in the 20s.', null)).toBeNull();
    expect(range('She is in her 30s.')).toBeNull();

    expectReadAlike([
      ['Anna lived in Oslo in early 2024.', 'Where did Anna live in early 2024?'],
      ['In the 1990s she sailed.', 'What did she do in the 90s?'],
      ['Bob retired at the end of 2023.', 'Who retired at the end of 2023?'],
    ]);
  });
});
