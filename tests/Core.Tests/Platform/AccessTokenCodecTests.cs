using System.Security.Cryptography;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Tests.Support;

namespace AgentCrm.Core.Tests.Platform;

public class AccessTokenCodecTests
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);
    private static readonly byte[] OldKey = RandomNumberGenerator.GetBytes(32);

    private static AccessTokenCodec Codec(TimeProvider time, byte[]? key = null, byte[]? previous = null) =>
        new(new AuthOptions(key ?? Key, previous, "agentcrm", "agentcrm-api", TimeSpan.FromHours(1), TimeSpan.FromDays(7),
            TimeSpan.FromSeconds(30), 5, TimeSpan.FromMinutes(15), TimeSpan.FromDays(7), []), time);

    [Fact]
    public void An_issued_token_validates_to_its_claims()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-22T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        var codec = Codec(time);
        var (user, workspace, session) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());

        var token = codec.Issue(user, workspace, session, out var expires);

        Assert.Equal(TokenFailure.None, codec.Validate(token, out var claims));
        Assert.Equal(new AccessTokenClaims(user, workspace, session, expires), claims);
        Assert.Equal(time.GetUtcNow().AddHours(1), expires);
    }

    [Fact]
    public void A_remembered_token_still_expires()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var codec = Codec(time);
        var token = codec.Issue(Guid.NewGuid(), null, Guid.NewGuid(), out _);
        Assert.Equal(TokenFailure.None, codec.Validate(token, out _));

        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(29));
        Assert.Equal(TokenFailure.None, codec.Validate(token, out _)); // within the skew
        time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(TokenFailure.Expired, codec.Validate(token, out _));
        Assert.Equal(TokenFailure.Expired, codec.ValidateUncached(token, out _));
    }

    [Fact]
    public void A_token_of_the_previous_key_validates_during_a_rotation_and_not_after()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var old = Codec(time, OldKey).Issue(Guid.NewGuid(), null, Guid.NewGuid(), out _);

        Assert.Equal(TokenFailure.None, Codec(time, Key, OldKey).Validate(old, out _));
        Assert.Equal(TokenFailure.UnknownKey, Codec(time, Key).Validate(old, out _));
    }

    [Fact]
    public void A_payload_changed_after_signing_fails_even_when_the_original_was_remembered()
    {
        var codec = Codec(TimeProvider.System);
        var token = codec.Issue(Guid.NewGuid(), null, Guid.NewGuid(), out _);
        Assert.Equal(TokenFailure.None, codec.Validate(token, out _));
        var parts = token.Split('.');
        var forged = Codec(TimeProvider.System).Issue(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), out _).Split('.')[1];

        Assert.Equal(TokenFailure.BadSignature, codec.Validate($"{parts[0]}.{forged}.{parts[2]}", out _));
    }
}
