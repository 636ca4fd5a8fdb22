insert into collection_generations (tenant_id, collection, generation, embedding_model, dimensions, chunk_size_tokens, chunk_overlap_tokens, state)
  select tenant_id, name, generation, embedding_model, dimensions, chunk_size_tokens, chunk_overlap_tokens, 'live' from collections
  on conflict do nothing;
