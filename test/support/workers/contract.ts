import { createApp } from "../../../workers/app.ts";
import { openApiDocument } from "../../../workers/openapi/document.ts";
import { contractChecker, type OpenApiDocument } from "../openapi-contract.ts";

/**
 * The contract check every Worker test's answers go through (callWorker and edge call it), against the document
 * the app's route definitions generate.
 */
export const DOCUMENT = openApiDocument(createApp()) as unknown as OpenApiDocument;
export const { checkContract, schemaErrors, operationFor } = contractChecker(DOCUMENT);
