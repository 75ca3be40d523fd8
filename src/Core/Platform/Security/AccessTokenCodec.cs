using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AgentCrm.Core.Platform.Security;

/// <summary>
/// Issues and validates this API's own access tokens: compact JWS, HS256 only. Written by hand because it
/// runs on every request: no claims dictionary, no allocation beyond the result, the keyed HMAC state kept
/// per thread. Anything but HS256 from a known key is refused here (alg "none" included); tokens of an
/// external issuer go to <see cref="ExternalTokenValidator"/>.
/// A client sends the same token for up to an hour, so a token that validated is remembered (bounded)
/// and its next validation is a dictionary hit that compares the whole token and checks expiry: the
/// HMAC (≈1.3 µs here) runs once per token and instance, not once per request.
/// </summary>
public sealed class AccessTokenCodec
{
    private const int MaxTokenLength = 4096;
    private const int MaxRemembered = 10_000;
    private readonly ConcurrentDictionary<string, AccessTokenClaims> _validated = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AccessTokenClaims>.AlternateLookup<ReadOnlySpan<char>> _validatedBySpan;
    private readonly AuthOptions _options;
    private readonly TimeProvider _time;
    private readonly SigningKey _current;
    private readonly SigningKey? _previous;
    private readonly byte[] _issuer;
    private readonly byte[] _audience;

    public AccessTokenCodec(AuthOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
        _current = new SigningKey(options.SigningKey);
        _previous = options.PreviousSigningKey is { } previous ? new SigningKey(previous) : null;
        _issuer = Encoding.UTF8.GetBytes(options.Issuer);
        _audience = Encoding.UTF8.GetBytes(options.Audience);
        _validatedBySpan = _validated.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string Issuer => _options.Issuer;

    public string Issue(Guid userId, Guid? workspaceId, Guid sessionId, out DateTimeOffset expiresAt)
    {
        var now = _time.GetUtcNow();
        expiresAt = now + _options.AccessTokenLifetime;
        var payload = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(payload))
        {
            json.WriteStartObject();
            json.WriteString("iss"u8, _options.Issuer);
            json.WriteString("aud"u8, _options.Audience);
            json.WriteString("sub"u8, userId);
            if (workspaceId is { } wid)
            {
                json.WriteString("wid"u8, wid);
            }

            json.WriteString("sid"u8, sessionId);
            json.WriteNumber("iat"u8, now.ToUnixTimeSeconds());
            json.WriteNumber("exp"u8, expiresAt.ToUnixTimeSeconds());
            json.WriteString("jti"u8, Guid.CreateVersion7(now));
            json.WriteEndObject();
        }

        var signingInput = _current.EncodedHeader + "." + Base64Url.EncodeToString(payload.WrittenSpan);
        Span<byte> signature = stackalloc byte[32];
        _current.Sign(Encoding.ASCII.GetBytes(signingInput), signature);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>
    /// True unless the header names a key this codec does not hold: then the token may be an external
    /// issuer's. Malformed headers, "none" and our key id with another algorithm are ours to refuse.
    /// </summary>
    public bool IsOwnToken(ReadOnlySpan<char> token)
    {
        var dot = token.IndexOf('.');
        return dot <= 0 || FindKey(token[..dot], out _) != TokenFailure.UnknownKey;
    }

    public TokenFailure Validate(ReadOnlySpan<char> token, out AccessTokenClaims claims)
    {
        if (_validatedBySpan.TryGetValue(token, out claims))
        {
            if (claims.ExpiresAt.ToUnixTimeSeconds() + (long)_options.ClockSkew.TotalSeconds > _time.GetUtcNow().ToUnixTimeSeconds())
            {
                return TokenFailure.None;
            }

            _validatedBySpan.TryRemove(token, out _);
            claims = default;
            return TokenFailure.Expired;
        }

        var failure = ValidateUncached(token, out claims);
        if (failure == TokenFailure.None)
        {
            if (_validated.Count >= MaxRemembered)
            {
                _validated.Clear(); // crude but bounded: the next requests refill it with live tokens
            }

            _validatedBySpan.TryAdd(token, claims);
        }

        return failure;
    }

    /// <summary>The full check: header, signature, claims. Public for the benchmark of a first sight.</summary>
    public TokenFailure ValidateUncached(ReadOnlySpan<char> token, out AccessTokenClaims claims)
    {
        claims = default;
        if (token.Length is 0 or > MaxTokenLength)
        {
            return TokenFailure.Malformed;
        }

        var first = token.IndexOf('.');
        if (first <= 0)
        {
            return TokenFailure.Malformed;
        }

        // The header first, so "alg: none" is named as such whatever follows it.
        var failure = FindKey(token[..first], out var key);
        if (failure != TokenFailure.None)
        {
            return failure;
        }

        var last = token.LastIndexOf('.');
        if (last == first || last == token.Length - 1 || token[(first + 1)..last].Contains('.'))
        {
            return TokenFailure.Malformed;
        }

        Span<byte> expected = stackalloc byte[32];
        Span<byte> actual = stackalloc byte[33];
        if (!TryDecode(token[(last + 1)..], actual, out var signatureLength) || signatureLength != 32)
        {
            return TokenFailure.Malformed;
        }

        var signingInput = token[..last];
        var rented = signingInput.Length > 1024 ? ArrayPool<byte>.Shared.Rent(signingInput.Length) : null;
        try
        {
            Span<byte> input = rented ?? stackalloc byte[1024];
            if (Encoding.ASCII.GetBytes(signingInput, input) != signingInput.Length)
            {
                return TokenFailure.Malformed;
            }

            key!.Sign(input[..signingInput.Length], expected);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        if (!CryptographicOperations.FixedTimeEquals(expected, actual[..32]))
        {
            return TokenFailure.BadSignature;
        }

        return ReadPayload(token[(first + 1)..last], out claims);
    }

    // Base64Url's Try methods return false only for a short destination; invalid text throws. Check first.
    private static bool TryDecode(ReadOnlySpan<char> source, Span<byte> destination, out int written)
    {
        written = 0;
        return Base64Url.IsValid(source, out var length) && length <= destination.Length
            && Base64Url.TryDecodeFromChars(source, destination, out written);
    }

    private TokenFailure FindKey(ReadOnlySpan<char> encodedHeader, out SigningKey? key)
    {
        key = null;
        if (encodedHeader.SequenceEqual(_current.EncodedHeader))
        {
            key = _current; // the header this codec writes: no JSON to read
            return TokenFailure.None;
        }

        if (_previous is not null && encodedHeader.SequenceEqual(_previous.EncodedHeader))
        {
            key = _previous;
            return TokenFailure.None;
        }

        Span<byte> header = stackalloc byte[256];
        if (encodedHeader.Length > 340 || !TryDecode(encodedHeader, header, out var length))
        {
            return TokenFailure.Malformed;
        }

        string? alg = null, kid = null;
        try
        {
            var reader = new Utf8JsonReader(header[..length]);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return TokenFailure.Malformed;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.ValueSpan;
                reader.Read();
                if (name.SequenceEqual("alg"u8) && reader.TokenType == JsonTokenType.String)
                {
                    alg = reader.GetString();
                }
                else if (name.SequenceEqual("kid"u8) && reader.TokenType == JsonTokenType.String)
                {
                    kid = reader.GetString();
                }
                else if (name.SequenceEqual("crit"u8))
                {
                    return TokenFailure.UnsupportedAlgorithm; // no extension is understood here
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return TokenFailure.Malformed;
        }

        if (alg is null)
        {
            return TokenFailure.Malformed;
        }

        // Our key id with another algorithm is an algorithm-confusion attempt, and "none" is never anyone's:
        // both are refused here. Any other key id may belong to an external issuer.
        key = kid == _current.Id ? _current : kid == _previous?.Id ? _previous : null;
        if (key is not null || alg.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return alg == "HS256" && key is not null ? TokenFailure.None : TokenFailure.UnsupportedAlgorithm;
        }

        return TokenFailure.UnknownKey;
    }

    private TokenFailure ReadPayload(ReadOnlySpan<char> encodedPayload, out AccessTokenClaims claims)
    {
        claims = default;
        var rented = ArrayPool<byte>.Shared.Rent(encodedPayload.Length);
        try
        {
            if (!TryDecode(encodedPayload, rented, out var length))
            {
                return TokenFailure.Malformed;
            }

            return ReadClaims(rented.AsSpan(0, length), out claims);
        }
        catch (JsonException)
        {
            return TokenFailure.Malformed;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private TokenFailure ReadClaims(ReadOnlySpan<byte> json, out AccessTokenClaims claims)
    {
        claims = default;
        Guid sub = default;
        Guid? wid = null, sid = null;
        long? exp = null, nbf = null;
        bool issuerOk = false, audienceOk = false;
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
        {
            return TokenFailure.Malformed;
        }

        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.ValueSpan;
            reader.Read();
            if (name.SequenceEqual("iss"u8))
            {
                issuerOk = reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(_issuer);
            }
            else if (name.SequenceEqual("aud"u8))
            {
                audienceOk = ReadAudience(ref reader);
            }
            else if (name.SequenceEqual("sub"u8))
            {
                if (reader.TokenType != JsonTokenType.String || !reader.TryGetGuid(out sub))
                {
                    return TokenFailure.Malformed;
                }
            }
            else if (name.SequenceEqual("wid"u8) || name.SequenceEqual("sid"u8))
            {
                if (reader.TokenType != JsonTokenType.String || !reader.TryGetGuid(out var value))
                {
                    return TokenFailure.Malformed;
                }

                if (name[0] == (byte)'w')
                {
                    wid = value;
                }
                else
                {
                    sid = value;
                }
            }
            else if (name.SequenceEqual("exp"u8) || name.SequenceEqual("nbf"u8))
            {
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var seconds))
                {
                    return TokenFailure.Malformed;
                }

                if (name[0] == (byte)'e')
                {
                    exp = seconds;
                }
                else
                {
                    nbf = seconds;
                }
            }
            else
            {
                reader.Skip();
            }
        }

        if (sub == Guid.Empty || exp is null)
        {
            return TokenFailure.Malformed;
        }

        if (!issuerOk)
        {
            return TokenFailure.WrongIssuer;
        }

        if (!audienceOk)
        {
            return TokenFailure.WrongAudience;
        }

        var now = _time.GetUtcNow().ToUnixTimeSeconds();
        var skew = (long)_options.ClockSkew.TotalSeconds;
        if (exp.Value + skew <= now)
        {
            return TokenFailure.Expired;
        }

        if (nbf is { } notBefore && notBefore - skew > now)
        {
            return TokenFailure.NotYetValid;
        }

        claims = new AccessTokenClaims(sub, wid, sid, DateTimeOffset.FromUnixTimeSeconds(exp.Value));
        return TokenFailure.None;
    }

    private bool ReadAudience(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.ValueTextEquals(_audience);
        }

        var found = false;
        if (reader.TokenType == JsonTokenType.StartArray)
        {
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                found |= reader.TokenType == JsonTokenType.String && reader.ValueTextEquals(_audience);
            }
        }
        else
        {
            reader.Skip();
        }

        return found;
    }

    /// <summary>One key, its id and the header that names it; the keyed HMAC is kept per thread and reused.</summary>
    private sealed class SigningKey
    {
        [ThreadStatic]
        private static Dictionary<SigningKey, IncrementalHash>? t_hmacs;
        private readonly byte[] _key;

        public SigningKey(byte[] key)
        {
            _key = key;
            Id = AuthOptions.KeyId(key);
            EncodedHeader = Base64Url.EncodeToString(Encoding.UTF8.GetBytes($$"""{"alg":"HS256","kid":"{{Id}}","typ":"JWT"}"""));
        }

        public string Id { get; }

        public string EncodedHeader { get; }

        public void Sign(ReadOnlySpan<byte> input, Span<byte> destination)
        {
            var hmacs = t_hmacs ??= [];
            if (!hmacs.TryGetValue(this, out var hmac))
            {
                if (hmacs.Count >= 8)
                {
                    ClearThreadCache(hmacs); // codecs come and go only in tests; keep the cache bounded anyway
                }

                hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
                hmacs[this] = hmac;
            }

            hmac.AppendData(input);
            hmac.GetHashAndReset(destination);
        }

        private static void ClearThreadCache(Dictionary<SigningKey, IncrementalHash> hmacs)
        {
            foreach (var hmac in hmacs.Values)
            {
                hmac.Dispose();
            }

            hmacs.Clear();
        }
    }
}
