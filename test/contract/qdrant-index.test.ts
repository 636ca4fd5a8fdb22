import { QdrantVectorIndex } from '../../lib/stores/qdrant-index';
import { vectorIndexContract } from './vector-index.contract';

const url = process.env.QDRANT_URL;

vectorIndexContract('qdrant', async () => new QdrantVectorIndex({ url: url as string, apiKey: process.env.QDRANT_API_KEY }), {
  skip: url ? undefined : 'QDRANT_URL is not set: this run needs a Qdrant server (docker compose up qdrant, then QDRANT_URL=http://127.0.0.1:6333)',
});
