import { createElement, Fragment } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { SelectField, TextField } from '@/components/ui/field';

/** The `for` of each <label> and the id of each control, in document order. */
function labelsAndControls(html: string) {
  const labels = [...html.matchAll(/<label for="([^"]*)"/g)].map((match) => match[1]);
  const controls = [...html.matchAll(/<(?:input|select)[^>]* id="([^"]*)"/g)].map(
    (match) => match[1],
  );
  return { labels, controls };
}

describe('form fields: one label per control', () => {
  it('a select given id={undefined} (as RoundingField passed it) keeps the id its label names', () => {
    const html = renderToStaticMarkup(
      createElement(SelectField, {
        label: 'Rounding',
        name: 'rounding',
        id: undefined,
        children: createElement('option', { value: 'up' }, 'Up'),
      }),
    );
    const { labels, controls } = labelsAndControls(html);
    expect(controls).toHaveLength(1);
    expect(controls[0]).toBeTruthy();
    expect(labels).toEqual(controls);
  });

  it('an add form and an edit form on one page label their same-named fields apart', () => {
    const html = renderToStaticMarkup(
      createElement(
        Fragment,
        null,
        createElement(TextField, { label: 'Name', name: 'name' }),
        createElement(TextField, { label: 'Name', name: 'name', id: undefined }),
      ),
    );
    const { labels, controls } = labelsAndControls(html);
    expect(new Set(controls).size).toBe(2);
    expect(labels).toEqual(controls);
  });

  it('an error is the control’s description, under the id the caller chose', () => {
    const html = renderToStaticMarkup(
      createElement(TextField, { label: 'Email', name: 'email', id: 'my-email', error: 'bad' }),
    );
    expect(html).toContain('id="my-email"');
    expect(html).toContain('aria-describedby="my-email-error"');
    expect(html).toContain('<p id="my-email-error"');
  });
});
