using System.Globalization;
using System.Text;

namespace AgentCrm.Core.Platform.Redis;

/// <summary>One argument of a command, written as a RESP bulk string: text (UTF-8), bytes or a number.</summary>
public readonly struct RedisArg
{
    private readonly string? _text;
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly long _number;
    private readonly byte _kind; // 0 text, 1 bytes, 2 number

    private RedisArg(string? text, ReadOnlyMemory<byte> bytes, long number, byte kind)
    {
        _text = text;
        _bytes = bytes;
        _number = number;
        _kind = kind;
    }

    public static implicit operator RedisArg(string value) => new(value ?? throw new ArgumentNullException(nameof(value)), default, 0, 0);

    public static implicit operator RedisArg(byte[] value) => new(null, value, 0, 1);

    public static implicit operator RedisArg(ReadOnlyMemory<byte> value) => new(null, value, 0, 1);

    public static implicit operator RedisArg(long value) => new(null, default, value, 2);

    public static implicit operator RedisArg(int value) => new(null, default, value, 2);

    public static RedisArg FromString(string value) => value;

    /// <summary>How many bytes the payload takes (without the RESP framing).</summary>
    internal int ByteCount => _kind switch
    {
        0 => Encoding.UTF8.GetByteCount(_text!),
        1 => _bytes.Length,
        _ => DigitCount(_number),
    };

    /// <summary>Writes the payload into <paramref name="destination"/>, which holds at least <see cref="ByteCount"/> bytes.</summary>
    internal int WriteTo(Span<byte> destination)
    {
        switch (_kind)
        {
            case 0:
                return Encoding.UTF8.GetBytes(_text!, destination);
            case 1:
                _bytes.Span.CopyTo(destination);
                return _bytes.Length;
            default:
                _number.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture);
                return written;
        }
    }

    public override string ToString() => _kind switch
    {
        0 => _text!,
        1 => $"<{_bytes.Length} bytes>",
        _ => _number.ToString(CultureInfo.InvariantCulture),
    };

    private static int DigitCount(long value)
    {
        Span<byte> buffer = stackalloc byte[20];
        value.TryFormat(buffer, out var written, default, CultureInfo.InvariantCulture);
        return written;
    }
}
