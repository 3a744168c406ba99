using System.Reflection;
using System.Reflection.Emit;

namespace NeuralBasics.Tests.Design;

/// <summary>
/// Which namespaces of an assembly use which others, read from the compiled code: the types named
/// in every signature (base type, interfaces, fields, properties, parameters, return types, generic
/// arguments and constraints) and every type, method or field a method body refers to. Compiler
/// generated types (closures, state machines) count for the namespace of the type they sit in.
/// </summary>
internal static class NamespaceDependencies
{
    private const BindingFlags Everything =
        BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OperandType> OperandTypes = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!)
        .ToDictionary(code => code.Value, code => code.OperandType);

    /// <summary>The edges "namespace A uses namespace B" (A ≠ B) between namespaces defined in <paramref name="assembly"/>.</summary>
    public static SortedSet<(string From, string To)> Of(Assembly assembly)
    {
        var own = assembly.GetTypes().Where(type => type.Namespace is not null).Select(type => type.Namespace!).ToHashSet();
        var edges = new SortedSet<(string, string)>();
        foreach (Type type in assembly.GetTypes())
        {
            if (Outermost(type).Namespace is not { } from)
                continue;
            foreach (Type used in UsedBy(type))
            {
                foreach (Type part in Flatten(used))
                {
                    string to = Outermost(part).Namespace ?? "";
                    if (part.Assembly == assembly && to != from && own.Contains(to))
                        edges.Add((from, to));
                }
            }
        }
        return edges;
    }

    /// <summary>A cycle in <paramref name="edges"/>, as the namespaces along it, or null when there is none.</summary>
    public static IReadOnlyList<string>? FindCycle(IEnumerable<(string From, string To)> edges)
    {
        var next = edges.GroupBy(edge => edge.From).ToDictionary(group => group.Key, group => group.Select(edge => edge.To).ToList());
        var state = new Dictionary<string, int>(); // 1 = on the current path, 2 = finished
        var path = new List<string>();
        foreach (string start in next.Keys)
        {
            if (Visit(start) is { } cycle)
                return cycle;
        }
        return null;

        List<string>? Visit(string node)
        {
            if (state.TryGetValue(node, out int seen))
                return seen == 1 ? [.. path[path.IndexOf(node)..], node] : null;
            state[node] = 1;
            path.Add(node);
            foreach (string target in next.GetValueOrDefault(node) ?? [])
            {
                if (Visit(target) is { } cycle)
                    return cycle;
            }
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
    }

    private static Type Outermost(Type type)
    {
        while (type.DeclaringType is { } outer)
            type = outer;
        return type;
    }

    /// <summary>The type itself, its element type and its generic arguments, recursively.</summary>
    private static IEnumerable<Type> Flatten(Type type)
    {
        if (type.IsGenericParameter)
            yield break;
        if (type.HasElementType)
        {
            foreach (Type inner in Flatten(type.GetElementType()!))
                yield return inner;
            yield break;
        }
        yield return type.IsGenericType ? type.GetGenericTypeDefinition() : type;
        if (type.IsGenericType)
        {
            foreach (Type argument in type.GetGenericArguments())
            {
                foreach (Type inner in Flatten(argument))
                    yield return inner;
            }
        }
    }

    private static IEnumerable<Type> UsedBy(Type type)
    {
        if (type.BaseType is { } baseType)
            yield return baseType;
        foreach (Type face in type.GetInterfaces())
            yield return face;
        foreach (Type argument in type.IsGenericTypeDefinition ? type.GetGenericArguments() : [])
        {
            foreach (Type constraint in argument.GetGenericParameterConstraints())
                yield return constraint;
        }
        foreach (FieldInfo field in type.GetFields(Everything))
            yield return field.FieldType;
        foreach (PropertyInfo property in type.GetProperties(Everything))
            yield return property.PropertyType;
        foreach (MethodBase method in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            if (method is MethodInfo { ReturnType: var returned })
                yield return returned;
            foreach (ParameterInfo parameter in method.GetParameters())
                yield return parameter.ParameterType;
            foreach (Type used in InBody(method))
                yield return used;
        }
    }

    /// <summary>The types whose members or tokens the IL of <paramref name="method"/> names.</summary>
    private static IEnumerable<Type> InBody(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
            yield break;
        Type[]? typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        Type[]? methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int at = 0;
        while (at < il.Length)
        {
            short value = il[at] == 0xFE ? (short)(0xFE00 | il[at + 1]) : il[at];
            at += il[at] == 0xFE ? 2 : 1;
            OperandType operand = OperandTypes[value];
            if (operand is OperandType.InlineType or OperandType.InlineTok or OperandType.InlineMethod or OperandType.InlineField)
            {
                int token = BitConverter.ToInt32(il, at);
                MemberInfo member = method.Module.ResolveMember(token, typeArguments, methodArguments)!;
                if (member is Type resolved)
                    yield return resolved;
                else
                {
                    yield return member.DeclaringType!;
                    if (member is MethodInfo { IsGenericMethod: true } generic)
                    {
                        foreach (Type argument in generic.GetGenericArguments())
                            yield return argument;
                    }
                }
            }
            at += operand switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
                _ => 4,
            };
        }
    }
}
