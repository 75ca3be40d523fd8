using System.Buffers.Text;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>
/// Entra ID for Azure Managed Redis: an access token for https://redis.azure.com from the App Service /
/// Functions managed-identity endpoint (IDENTITY_ENDPOINT with the X-IDENTITY-HEADER secret), sent as the
/// AUTH password with the identity's object id as user. Tokens are reused until 5 minutes before expiry;
/// the connection re-AUTHs before then.
/// </summary>
public sealed class ManagedIdentityRedisCredentials(HttpClient http, Uri identityEndpoint, string identityHeader, string? clientId, TimeProvider time)
    : IRedisCredentialProvider
{
    public const string Resource = "https://redis.azure.com";

    private RedisCredential? _cached;

    public async ValueTask<RedisCredential?> GetAsync(CancellationToken cancellationToken)
    {
        if (_cached is { ExpiresAt: { } expires } cached && expires - time.GetUtcNow() > TimeSpan.FromMinutes(5))
        {
            return cached;
        }

        var query = $"?resource={Uri.EscapeDataString(Resource)}&api-version=2019-08-01" + (clientId is null ? string.Empty : $"&client_id={Uri.EscapeDataString(clientId)}");
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(identityEndpoint, query));
        request.Headers.Add("X-IDENTITY-HEADER", identityHeader);
        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new RedisConnectionException($"The managed identity endpoint answered {(int)response.StatusCode} for a Redis token.");
        }

        var token = await response.Content.ReadFromJsonAsync<IdentityToken>(cancellationToken)
            ?? throw new RedisConnectionException("The managed identity endpoint answered without a token.");
        var objectId = token.AccessToken is null ? null : ObjectIdOf(token.AccessToken);
        if (string.IsNullOrEmpty(token.AccessToken) || string.IsNullOrEmpty(objectId))
        {
            throw new RedisConnectionException("The managed identity token for Redis lacks an access token or an oid claim.");
        }

        var expiresAt = long.TryParse(token.ExpiresOn, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds) : time.GetUtcNow().AddMinutes(30);
        _cached = new RedisCredential(objectId, token.AccessToken, expiresAt);
        return _cached;
    }

    /// <summary>Redis wants the identity's object id as the AUTH user: the token's own oid claim (no signature check needed, we just fetched it).</summary>
    private static string? ObjectIdOf(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length != 3)
        {
            return null;
        }

        try
        {
            using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(parts[1]));
            return payload.RootElement.TryGetProperty("oid", out var oid) ? oid.GetString() : null;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return null;
        }
    }

    private sealed record IdentityToken(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("expires_on")] string? ExpiresOn);
}
