import type { Contract } from '../../lib/contract/contract.ts';

/**
 * The public dirty/clean benchmark tables (Raha/Baran: flights, hospital, rayyan) that
 * `npm run bench:accuracy` repairs and scores, each with the contract a careful operator would
 * write from the clean file's conventions. Every value of each clean.csv passes its contract;
 * the dirty files' format errors fail it. Only the bench may name these columns and values:
 * the product never does.
 *
 * Columns are named as in dirty.csv, in order. hospital's clean.csv has other (CamelCase)
 * headers: its columns map to these by position.
 */
export interface AccuracyDataset {
  name: string;
  /** Absolute path of the folder holding dirty.csv and clean.csv. */
  dir: string;
  contract: Contract;
}

const ROOT = '/work/shared/datasets';
/** Plain CSV: only the empty field is null (hospital's "empty" is a value of its own). */
function csv(): Contract['format'] {
  return { type: 'csv', quote: '"', null_tokens: [] };
}

type ColumnSpec = Partial<Contract['columns'][number]> & Pick<Contract['columns'][number], 'name' | 'type'>;

/** Column defaults the zod schema would fill in, so each contract is already in parsed form. */
function column(spec: ColumnSpec): Contract['columns'][number] {
  return { nullable: true, primary_key: false, pii: false, ...spec };
}

/** A 12-hour clock time as the clean file writes it: "7:10 a.m.", "12:05 p.m.". */
const CLOCK_TIME = '(1[0-2]|[1-9]):[0-5][0-9] [ap]\\.m\\.';
/** Printable ASCII: the clean file carries no other character (the dirty one has mojibake). */
const PRINTABLE_ASCII = '[ -~]*';

const flights: Contract = {
  stream: 'bench-flights',
  version: 1,
  description: 'Departure and arrival times of flights as reported by several web sources.',
  format: csv(),
  columns: [
    column({ name: 'tuple_id', type: 'integer', nullable: false, primary_key: true }),
    column({ name: 'src', type: 'string', nullable: false, pattern: '[A-Za-z][A-Za-z-]*' }),
    column({ name: 'flight', type: 'string', nullable: false, pattern: '[A-Z]{2}-[0-9]{1,4}-[A-Z]{3}-[A-Z]{3}' }),
    column({ name: 'sched_dep_time', type: 'string', nullable: false, pattern: CLOCK_TIME }),
    column({ name: 'act_dep_time', type: 'string', nullable: false, pattern: CLOCK_TIME }),
    column({ name: 'sched_arr_time', type: 'string', nullable: false, pattern: CLOCK_TIME }),
    column({ name: 'act_arr_time', type: 'string', nullable: false, pattern: CLOCK_TIME }),
  ],
  // Each row is one source's report of a flight: a flight has one time of each kind, whoever reports it.
  tests: ['sched_dep_time', 'act_dep_time', 'sched_arr_time', 'act_arr_time'].map((dependent) => ({
    type: 'dependency' as const,
    determinant: ['flight'],
    dependent,
    source: 'src',
  })),
};

/** A measure code: "ami-1", "pn-3b", "scip-inf-1". */
const MEASURE_CODE = '[a-z]+(-[a-z]+)?-[0-9]+[a-z]?';

const hospital: Contract = {
  stream: 'bench-hospital',
  version: 1,
  description: 'Hospital quality measures; the literal text "empty" stands for a missing value.',
  format: csv(),
  columns: [
    column({ name: 'index', type: 'integer', nullable: false, primary_key: true }),
    column({ name: 'provider_number', type: 'string', nullable: false, pattern: '[0-9]{5}' }),
    column({ name: 'name', type: 'string', nullable: false }),
    column({ name: 'address_1', type: 'string', nullable: false }),
    column({ name: 'address_2', type: 'string', nullable: false }),
    column({ name: 'address_3', type: 'string', nullable: false }),
    column({ name: 'city', type: 'string', nullable: false }),
    column({ name: 'state', type: 'enum', nullable: false, allowed: ['al', 'ak'] }),
    column({ name: 'zip', type: 'string', nullable: false, pattern: '[0-9]{5}' }),
    column({ name: 'county', type: 'string', nullable: false }),
    column({ name: 'phone', type: 'string', nullable: false, pattern: '[0-9]{10}', pii: true }),
    column({ name: 'type', type: 'enum', nullable: false, allowed: ['acute care hospitals'] }),
    column({
      name: 'owner',
      type: 'enum',
      nullable: false,
      allowed: [
        'government - federal',
        'government - hospital district or authority',
        'government - local',
        'government - state',
        'proprietary',
        'voluntary non-profit - church',
        'voluntary non-profit - other',
        'voluntary non-profit - private',
      ],
    }),
    column({ name: 'emergency_service', type: 'enum', nullable: false, allowed: ['yes', 'no'] }),
    column({
      name: 'condition',
      type: 'enum',
      nullable: false,
      allowed: ['heart attack', 'heart failure', 'pneumonia', 'surgical infection prevention', 'children s asthma care'],
    }),
    column({
      name: 'measure_code',
      type: 'enum',
      nullable: false,
      allowed: [
        'ami-1',
        'ami-2',
        'ami-3',
        'ami-4',
        'ami-5',
        'ami-7a',
        'ami-8a',
        'cac-1',
        'cac-2',
        'cac-3',
        'hf-1',
        'hf-2',
        'hf-3',
        'hf-4',
        'pn-2',
        'pn-3b',
        'pn-4',
        'pn-5c',
        'pn-6',
        'pn-7',
        'scip-card-2',
        'scip-inf-1',
        'scip-inf-2',
        'scip-inf-3',
        'scip-inf-4',
        'scip-inf-6',
        'scip-vte-1',
        'scip-vte-2',
      ],
    }),
    column({ name: 'measure_name', type: 'string', nullable: false }),
    column({ name: 'score', type: 'string', nullable: false, pattern: '[0-9]{1,3}%|empty' }),
    column({ name: 'sample', type: 'string', nullable: false, pattern: '[0-9]+ patients|empty' }),
    column({ name: 'state_average', type: 'string', nullable: false, pattern: `[a-z]{2}_${MEASURE_CODE}` }),
  ],
  tests: [
    // A provider number names one hospital: its name, address, phone, type, owner and services.
    ...['name', 'address_1', 'address_2', 'address_3', 'city', 'state', 'zip', 'county', 'phone', 'type', 'owner', 'emergency_service'].map(
      (dependent) => ({ type: 'dependency' as const, determinant: ['provider_number'], dependent }),
    ),
    // A hospital (its name where it is) has one provider number.
    { type: 'dependency', determinant: ['name', 'zip'], dependent: 'provider_number' },
    // A measure has one name and one condition; its name names it.
    { type: 'dependency', determinant: ['measure_code'], dependent: 'measure_name' },
    { type: 'dependency', determinant: ['measure_code'], dependent: 'condition' },
    { type: 'dependency', determinant: ['measure_name'], dependent: 'measure_code' },
    // The state average is the average of a state for a measure.
    { type: 'dependency', determinant: ['state', 'measure_code'], dependent: 'state_average' },
  ],
};

const rayyan: Contract = {
  stream: 'bench-rayyan',
  version: 1,
  description: 'Bibliographic records of a systematic review; -1 marks an unknown volume or issue.',
  format: csv(),
  columns: [
    column({ name: 'id', type: 'integer', nullable: false, primary_key: true }),
    column({ name: 'article_title', type: 'string', pattern: PRINTABLE_ASCII }),
    column({ name: 'article_language', type: 'string' }),
    column({ name: 'journal_title', type: 'string', pattern: PRINTABLE_ASCII }),
    column({ name: 'jounral_abbreviation', type: 'string', pattern: PRINTABLE_ASCII }),
    // ISSNs and page ranges stay free text: the clean file itself carries spreadsheet-mangled
    // values ("22-Mar", "Sep-82", "2.05E+015") that any tighter form would reject.
    column({ name: 'journal_issn', type: 'string', pattern: PRINTABLE_ASCII }),
    column({ name: 'article_jvolumn', type: 'integer', nullable: false, min: -1 }),
    column({ name: 'article_jissue', type: 'integer', nullable: false, min: -1 }),
    column({ name: 'article_jcreated_at', type: 'date', format: '%m/%d/%y' }),
    column({ name: 'article_pagination', type: 'string', pattern: PRINTABLE_ASCII }),
    column({ name: 'author_list', type: 'string', nullable: false, pattern: `\\{${PRINTABLE_ASCII}\\}` }),
  ],
  tests: [],
};

export const ACCURACY_DATASETS: AccuracyDataset[] = [
  { name: 'flights', dir: `${ROOT}/flights`, contract: flights },
  { name: 'hospital', dir: `${ROOT}/hospital`, contract: hospital },
  { name: 'rayyan', dir: `${ROOT}/rayyan`, contract: rayyan },
];
