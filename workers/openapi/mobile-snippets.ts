/**
 * Copy-paste clients for iOS and Android, carried in the OpenAPI document's description (so /docs shows them) and
 * repeated in the README. Neither can be compiled on the project's machines (no Swift or Kotlin toolchain): they
 * are written against the documented API, and the API's own tests check the requests they make.
 */
export const MOBILE_SNIPPETS = `## Mobile clients

These snippets and the generator commands cannot be compiled or run on the project's build machines (no Swift or
Kotlin toolchain there): they follow the documented requests, which the project's own tests exercise.

### Swift (URLSession, multipart upload, Idempotency-Key)

\`\`\`swift
import Foundation

func classify(photo: Data, labels: [String], apiKey: String) async throws -> Data {
    var request = URLRequest(url: URL(string: "https://api.clip-edge.dev/v1/classify")!)
    let boundary = "clip-edge-\\(UUID().uuidString)"
    request.httpMethod = "POST"
    request.setValue("Bearer \\(apiKey)", forHTTPHeaderField: "Authorization")
    request.setValue("multipart/form-data; boundary=\\(boundary)", forHTTPHeaderField: "Content-Type")
    // Reuse the same key when retrying this request: a completed one is replayed, never billed twice.
    request.setValue(UUID().uuidString, forHTTPHeaderField: "Idempotency-Key")
    var body = Data()
    func part(_ headers: String, _ content: Data) {
        body.append("--\\(boundary)\\r\\n\\(headers)\\r\\n\\r\\n".data(using: .utf8)!)
        body.append(content)
        body.append("\\r\\n".data(using: .utf8)!)
    }
    part("Content-Disposition: form-data; name=\\"image\\"; filename=\\"photo.jpg\\"\\r\\nContent-Type: image/jpeg", photo)
    for label in labels {
        part("Content-Disposition: form-data; name=\\"labels\\"", label.data(using: .utf8)!)
    }
    body.append("--\\(boundary)--\\r\\n".data(using: .utf8)!)
    let (data, response) = try await URLSession.shared.upload(for: request, from: body)
    guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
        // application/problem+json: read its "code" and "detail".
        throw URLError(.badServerResponse)
    }
    return data // {"results": [{"labels": [{"label", "score", "similarity"}, …]}], …}
}
\`\`\`

### Kotlin (OkHttp)

\`\`\`kotlin
import java.io.File
import java.util.UUID
import okhttp3.MediaType.Companion.toMediaType
import okhttp3.MultipartBody
import okhttp3.OkHttpClient
import okhttp3.Request
import okhttp3.RequestBody.Companion.asRequestBody

fun classify(client: OkHttpClient, photo: File, labels: List<String>, apiKey: String): String {
    val body = MultipartBody.Builder().setType(MultipartBody.FORM)
        .addFormDataPart("image", photo.name, photo.asRequestBody("image/jpeg".toMediaType()))
        .apply { labels.forEach { addFormDataPart("labels", it) } }
        .build()
    val request = Request.Builder()
        .url("https://api.clip-edge.dev/v1/classify")
        .header("Authorization", "Bearer $apiKey")
        // Reuse the same key when retrying this request: a completed one is replayed, never billed twice.
        .header("Idempotency-Key", UUID.randomUUID().toString())
        .post(body)
        .build()
    client.newCall(request).execute().use { response ->
        val text = response.body!!.string()
        // Errors are application/problem+json with a "code" from a closed set.
        check(response.isSuccessful) { "clip-edge \${response.code}: $text" }
        return text
    }
}
\`\`\`

### Generate a full client from /openapi.json

\`\`\`sh
curl -s https://api.clip-edge.dev/openapi.json -o openapi.json
# Swift: swift-openapi-generator (as a SwiftPM plugin, or its CLI)
swift run swift-openapi-generator generate openapi.json --mode types --mode client --output-directory Sources/ClipEdge
# Kotlin: openapi-generator
openapi-generator-cli generate -i openapi.json -g kotlin --library jvm-okhttp4 -o clip-edge-kotlin
\`\`\``;
