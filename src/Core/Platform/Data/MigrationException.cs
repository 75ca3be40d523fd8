namespace AgentCrm.Core.Platform.Data;

/// <summary>A migration cannot be applied, or the database disagrees with the migrations this build carries.</summary>
public sealed class MigrationException : Exception
{
    public MigrationException() { }

    public MigrationException(string message) : base(message) { }

    public MigrationException(string message, Exception innerException) : base(message, innerException) { }
}
