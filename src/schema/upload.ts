import { GraphQLError, GraphQLScalarType } from 'graphql';

/**
 * A file that came with a GraphQL multipart request, read whole into memory by the HTTP layer
 * (`server/http/multipart-reader.ts`) within `PHOTO_MAX_UPLOAD_BYTES`: nothing is written to disk, so a
 * killed process leaves nothing behind.
 */
export class PhotoUpload {
  constructor(
    /** The file name the client gave (never trusted for anything but logs). */
    readonly filename: string,
    /** The type the client declared; the format is read from the bytes instead. */
    readonly declaredType: string,
    readonly bytes: Buffer,
  ) {}
}

/**
 * The `Upload` scalar of the GraphQL multipart request spec. Its only values are the files the
 * multipart request put into the variables; a string or an object in a JSON request is not a
 * file, and an inline literal cannot be one.
 */
export const UploadScalar = new GraphQLScalarType<PhotoUpload, never>({
  name: 'Upload',
  description: 'A file sent as part of a GraphQL multipart request.',
  parseValue(value) {
    if (value instanceof PhotoUpload) return value;
    throw new GraphQLError('Upload values must be files sent as a GraphQL multipart request (multipart/form-data).');
  },
  parseLiteral() {
    throw new GraphQLError('Upload literals are not supported: send the file as a variable of a GraphQL multipart request.');
  },
  serialize() {
    throw new GraphQLError('Upload is an input-only type.');
  },
});
