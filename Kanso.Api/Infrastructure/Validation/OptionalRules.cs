using FluentValidation;
using Kanso.Api.Infrastructure.Json;

namespace Kanso.Api.Infrastructure.Validation;

/// <summary>FluentValidation rules for <see cref="Optional{T}"/> body properties (absent, null or a value).</summary>
internal static class OptionalRules
{
    /// <summary>Absent is fine; null is refused (the field cannot be cleared).</summary>
    public static IRuleBuilderOptions<T, Optional<TValue>> NotSentAsNull<T, TValue>(this IRuleBuilder<T, Optional<TValue>> rule) =>
        rule.Must(o => !o.IsNull).WithMessage("'{PropertyName}' must not be null.");

    /// <summary>Absent or null passes; a sent value must satisfy <paramref name="predicate"/>.</summary>
    public static IRuleBuilderOptions<T, Optional<TValue>> WhenSent<T, TValue>(this IRuleBuilder<T, Optional<TValue>> rule, Func<TValue, bool> predicate) =>
        rule.Must(o => !o.HasValue || predicate(o.Value));

    /// <summary>The property must be sent (it may still be null unless another rule refuses that).</summary>
    public static IRuleBuilderOptions<T, Optional<TValue>> Sent<T, TValue>(this IRuleBuilder<T, Optional<TValue>> rule) =>
        rule.Must(o => o.IsSent).WithMessage("'{PropertyName}' is required.");
}
