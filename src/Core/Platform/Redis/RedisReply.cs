using System.Globalization;
using System.Text;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>What a RESP2 reply was.</summary>
public enum RedisReplyKind
{
    SimpleString,
    Error,
    Number,
    BulkString,
    Nil,
    Array,
}

/// <summary>
/// One parsed RESP2 reply. Bulk payloads are copied out of the connection's buffers, so a reply stays
/// valid after the reader moves on. Error replies never reach callers as values: they become
/// <see cref="RedisServerException"/>.
/// </summary>
public sealed class RedisReply
{
    public static readonly RedisReply Nil = new(RedisReplyKind.Nil);
    public static readonly RedisReply Ok = SimpleOf("OK");

    private RedisReply(RedisReplyKind kind, string? text = null, long number = 0, byte[]? bulk = null, RedisReply[]? items = null)
    {
        Kind = kind;
        Text = text;
        Number = number;
        Bulk = bulk;
        Items = items;
    }

    public RedisReplyKind Kind { get; }

    /// <summary>A simple string's or an error's text.</summary>
    public string? Text { get; }

    public long Number { get; }

    public byte[]? Bulk { get; }

    public IReadOnlyList<RedisReply>? Items { get; }

    public bool IsNil => Kind == RedisReplyKind.Nil;

    public static RedisReply SimpleOf(string text) => new(RedisReplyKind.SimpleString, text);

    public static RedisReply ErrorOf(string text) => new(RedisReplyKind.Error, text);

    public static RedisReply IntegerOf(long value) => new(RedisReplyKind.Number, number: value);

    public static RedisReply BulkOf(byte[] value) => new(RedisReplyKind.BulkString, bulk: value);

    public static RedisReply ArrayOf(RedisReply[] items) => new(RedisReplyKind.Array, items: items);

    /// <summary>The reply as text: a bulk string decoded as UTF-8, a simple string, an integer; null for nil.</summary>
    public string? AsString() => Kind switch
    {
        RedisReplyKind.BulkString => Encoding.UTF8.GetString(Bulk!),
        RedisReplyKind.SimpleString => Text,
        RedisReplyKind.Number => Number.ToString(CultureInfo.InvariantCulture),
        RedisReplyKind.Nil => null,
        _ => throw new RedisProtocolException($"Expected a string reply, got {Kind}."),
    };

    /// <summary>The reply as a number: an integer reply, or a bulk/simple string holding one.</summary>
    public long AsInteger() => Kind switch
    {
        RedisReplyKind.Number => Number,
        RedisReplyKind.BulkString or RedisReplyKind.SimpleString when long.TryParse(AsString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) => value,
        _ => throw new RedisProtocolException($"Expected an integer reply, got {Kind}."),
    };

    public IReadOnlyList<RedisReply> AsArray() =>
        Kind == RedisReplyKind.Array ? Items! : throw new RedisProtocolException($"Expected an array reply, got {Kind}.");

    public override string ToString() => Kind switch
    {
        RedisReplyKind.Array => $"[{string.Join(", ", Items!)}]",
        RedisReplyKind.Nil => "(nil)",
        RedisReplyKind.Error => $"(error) {Text}",
        _ => AsString() ?? string.Empty,
    };
}
