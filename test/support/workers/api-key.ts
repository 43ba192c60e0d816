/**
 * The key every Worker test sends unless it says otherwise (callWorker adds it), on the `pro` plan of account
 * "test". setup.ts stores its hash in D1 before each test file, as the admin API would.
 */
export const TEST_API_KEY = `clip_live_${"TestKeyOfTheWorkerTests".padEnd(43, "0")}`;
export const TEST_KEY_ID = "key_0000000000000001";
