import { OptionalTags } from './coercions.js';

/** Hindsight's `UpdateDocumentRequest`: tags are a document's only mutable field. */
export class UpdateDocumentRequestDto {
  @OptionalTags()
  tags?: string[] | null;
}
