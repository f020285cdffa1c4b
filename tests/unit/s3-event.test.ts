import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeEventKey, objectCreatedEvents, StoreS3EventSchema } from '../../lib/events/s3-event.ts';

const sample = (name: string) => StoreS3EventSchema.parse(JSON.parse(readFileSync(`events/${name}`, 'utf8')));

/** How AWS encodes keys in S3 events: form encoding, `/` kept. */
const awsEncode = (key: string) => encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
/** How MinIO encodes them: form encoding of the whole key, `/` included. */
const minioEncode = (key: string) => encodeURIComponent(key).replace(/%20/g, '+');

describe('store events', () => {
  it('normalise the three stores to one key and event name', () => {
    const [rgw] = objectCreatedEvents(sample('ingest-rgw.json'));
    const [aws] = objectCreatedEvents(sample('ingest-aws.json'));
    const [minio] = objectCreatedEvents(sample('ingest-minio.json'));
    expect(rgw).toMatchObject({ key: 'raw/orders/sample.csv', eventName: 'ObjectCreated:Put', bucket: 'vaultmend-vault' });
    expect(aws).toMatchObject({ key: 'raw/orders/sample copy.csv', eventName: 'ObjectCreated:Put' });
    expect(minio).toMatchObject({ key: 'raw/orders/sample copy.csv', eventName: 'ObjectCreated:Put' });
  });

  it('leave out records that are not object creation', () => {
    const event = sample('ingest-rgw.json');
    event.Records[0]!.eventName = 'ObjectRemoved:Delete';
    expect(objectCreatedEvents(event)).toEqual([]);
  });

  it('reject an event of an unknown source', () => {
    const raw = JSON.parse(readFileSync('events/ingest-rgw.json', 'utf8'));
    raw.Records[0].eventSource = 'gcs';
    expect(StoreS3EventSchema.safeParse(raw).success).toBe(false);
    expect(StoreS3EventSchema.safeParse({ Records: [] }).success).toBe(false);
  });

  it('decode any key exactly as each store encodes it', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), (key) => {
        expect(decodeEventKey(awsEncode(key), 'aws:s3')).toBe(key);
        expect(decodeEventKey(minioEncode(key), 'minio:s3')).toBe(key);
        expect(decodeEventKey(key, 'ceph:s3')).toBe(key);
      }),
    );
  });
});
